"""Everything that knows Kiro's wire formats: request building, event stream, errors, HTTP."""
