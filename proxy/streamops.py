"""Pure transformations on neutral event streams that Kiro cannot do itself."""
from __future__ import annotations

import math
from typing import Iterable, Iterator

from proxy.chat import Stop, StreamEvent, TextDelta, Usage


def apply_stop_sequences(events: Iterable[StreamEvent], stops: list[str],
                         input_tokens: int = 0) -> Iterator[StreamEvent]:
    """Cut the answer at the first stop sequence, as the model APIs do; Kiro has no such option.

    Text is held back only as long as it could still be the start of a stop sequence, so
    streaming stays smooth. After a match the upstream is abandoned (the caller closes its
    generator), and a Usage (the last seen, else an estimate) and Stop("stop_sequence") follow.
    """
    stops = [s for s in stops if s]
    if not stops:
        yield from events
        return
    keep = max(len(s) for s in stops) - 1
    pending = ""
    emitted_chars = 0
    usage = None
    for event in events:
        if not isinstance(event, TextDelta):
            if isinstance(event, Usage):
                usage = event
            if pending:  # a non-text event ends the text run: nothing can match across it
                yield TextDelta(pending)
                pending = ""
            yield event
            continue
        pending += event.text
        hits = [(pending.find(s), s) for s in stops if s in pending]
        if hits:
            index, seq = min(hits)
            if index:
                yield TextDelta(pending[:index])
            emitted_chars += index
            yield usage or Usage(input_tokens, max(1, math.ceil(emitted_chars / 4)))
            yield Stop("stop_sequence", stop_sequence=seq)
            return
        if len(pending) > keep:
            cut = len(pending) - keep
            yield TextDelta(pending[:cut])
            emitted_chars += cut
            pending = pending[cut:]
    if pending:
        yield TextDelta(pending)
