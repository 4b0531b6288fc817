"""Client protocol adapters: each turns its JSON into a `Chat` and `StreamEvent`s into bytes."""
