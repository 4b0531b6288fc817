"""Web-search rounds between two upstream streams, with scripted upstreams."""
from __future__ import annotations

from dataclasses import dataclass, field

from proxy.chat import (Chat, Message, ServerToolCall, ServerToolResult, Stop, TextDelta, TextPart, ToolCallDelta,
                        ToolCallEnd, ToolCallPart, ToolCallStart, ToolResultPart, Usage, WebSearch)
from proxy.kiro.errors import KiroError
from proxy.websearch import SEARCH_FAILED, results_text, with_web_search

RESULTS = [{"title": "Kiro", "url": "https://kiro.dev", "snippet": "An IDE.", "published": None}]


@dataclass
class FakeUpstream:
    """An open upstream with scripted events that records being closed."""
    events: list
    account: str = "acc"
    search_tool: str = "web_search"
    closed: int = 0

    def close(self) -> None:
        self.closed += 1


def searching(query: str = "kiro") -> list:
    """An answer that says something, then calls the proxy's web_search tool."""
    return [TextDelta("Let me look."), ToolCallStart("tu1", "web_search"), ToolCallDelta("tu1", '{"query"'),
            ToolCallEnd("tu1", {"query": query}), Usage(10, 5), Stop("tool_use")]


def chat(**overrides) -> Chat:
    values = dict(model="m", messages=[Message("user", [TextPart("find kiro")])], web_search=WebSearch())
    values.update(overrides)
    return Chat(**values)


@dataclass
class Rounds:
    """Records the chats the search loop reopens with and the queries it runs."""
    answers: list
    reopened: list = field(default_factory=list)
    queries: list = field(default_factory=list)
    fail: bool = False

    def reopen(self, longer: Chat) -> FakeUpstream:
        self.reopened.append(longer)
        return FakeUpstream(self.answers.pop(0))

    def search(self, account, query: str) -> list:
        self.queries.append((account, query))
        if self.fail:
            raise KiroError.network(ConnectionError("mcp down"))
        return RESULTS


def test_a_search_call_is_served_and_the_answer_continues_in_a_new_upstream():
    first = FakeUpstream(searching())
    rounds = Rounds([[TextDelta("Found it."), Usage(30, 3), Stop("end_turn")]])
    opened = [first]
    events = list(with_web_search(chat(), opened, rounds.reopen, rounds.search))
    assert events == [TextDelta("Let me look."), ServerToolCall("tu1", "web_search", {"query": "kiro"}),
                      ServerToolResult("tu1", "web_search", RESULTS), TextDelta("Found it."), Usage(30, 8),
                      Stop("end_turn")]
    assert rounds.queries == [("acc", "kiro")]
    longer = rounds.reopened[0]
    assert longer.messages[-2] == Message("assistant", [TextPart("Let me look."),
                                                        ToolCallPart("tu1", "web_search", {"query": "kiro"})])
    assert longer.messages[-1] == Message("user", [ToolResultPart("tu1", results_text(RESULTS))])
    assert len(opened) == 2 and first.closed == 1


def test_a_failed_search_still_lets_the_model_answer():
    rounds = Rounds([[TextDelta("From memory."), Usage(30, 3), Stop("end_turn")]], fail=True)
    events = list(with_web_search(chat(), [FakeUpstream(searching())], rounds.reopen, rounds.search))
    assert ServerToolResult("tu1", "web_search", [], error="unavailable") in events
    assert rounds.reopened[0].messages[-1].parts[0].content == SEARCH_FAILED
    assert events[-1] == Stop("end_turn")


def test_searches_stop_at_max_uses_and_the_call_is_never_shown_as_a_client_tool():
    rounds = Rounds([])
    events = list(with_web_search(chat(web_search=WebSearch(max_uses=0)), [FakeUpstream(searching())],
                                  rounds.reopen, rounds.search))
    assert not any(isinstance(e, (ToolCallStart, ToolCallDelta, ToolCallEnd)) for e in events)
    assert events[-1] == Stop("end_turn") and rounds.reopened == []


def test_client_tool_calls_pass_through_untouched():
    client_call = [ToolCallStart("c1", "Bash"), ToolCallDelta("c1", "{}"), ToolCallEnd("c1", {}), Stop("tool_use")]
    events = list(with_web_search(chat(web_search=None), [FakeUpstream(client_call, search_tool=None)],
                                  Rounds([]).reopen, Rounds([]).search))
    assert events == client_call


def test_results_text_numbers_each_result():
    assert results_text(RESULTS) == "[1] Kiro\nhttps://kiro.dev\nAn IDE."
    assert results_text([]) == "No results."


def test_one_usage_before_the_stop_counts_the_output_and_credits_of_every_round():
    """Renderers keep the last Usage: the first round's output (its text and the search call)
    and its credits must not vanish from the answer's usage, nor a Usage precede content."""
    first = searching()
    first[-2] = Usage(10, 5, credits=0.25)
    second = searching("more")
    second[-2] = Usage(20, 7, cache_read_tokens=4, credits=0.5)
    rounds = Rounds([second, [TextDelta("Found it."), Usage(30, 3, credits=0.25), Stop("end_turn")]])
    events = list(with_web_search(chat(), [FakeUpstream(first)], rounds.reopen, rounds.search))
    usages = [e for e in events if isinstance(e, Usage)]
    assert usages == [Usage(30, 15, 0, credits=1.0)]
    assert events[-2:] == [usages[0], Stop("end_turn")]
