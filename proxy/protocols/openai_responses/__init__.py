"""The OpenAI Responses API (`POST /v1/responses`), the protocol Codex CLI speaks.

Served: text, images (data URLs), reasoning (as summary text), function / custom (freeform) /
local_shell / tool_search tools and namespaces (flattened as `<namespace>__<name>`, rendered back
with their namespace), web search (run by the proxy), structured output (`text.format`), streaming
and non-streaming answers. Refused with a 400 naming the field: anything that needs stored server
state (`previous_response_id`, `conversation`, `prompt`, `background`, `item_reference` items),
remote image URLs and file ids, file and audio inputs. Hosted tools the proxy cannot run are ignored.
"""
from proxy.protocols.openai_responses.parse import ParsedRequest, parse
from proxy.protocols.openai_responses.render import ADAPTER, ResponsesAdapter
from proxy.protocols.openai_responses.routes import blueprint

__all__ = ["ADAPTER", "ParsedRequest", "ResponsesAdapter", "blueprint", "parse"]
