"""Tests for Kiro error classification, with the exact bodies of docs/kiro-upstream.md §4."""
import socket

import pytest

from proxy.errors import ErrorKind
from proxy.kiro.errors import KiroError, KiroErrorKind, classify, classify_exception_frame

K = KiroErrorKind

SUSPENDED_2025 = (
    '{"message":"Your User ID (a4180488-00f1-7060-f0ff-ac9a884a45d5) temporarily is suspended. '
    "We've locked your account as a security precaution. To restore access, please contact our "
    'support team to verify your identity: https://support.aws.amazon.com/#/contacts/kiro",'
    '"reason":"TEMPORARILY_SUSPENDED"}')
SUSPENDED_2026 = (
    '{"message":"Your User ID is temporarily suspended. We detected unusual user activity and locked '
    'it as a security precaution. To restore access, please contact our support team.","reason":null}')
SUSPICIOUS = (
    '{"message":"Due to suspicious activity, we are imposing temporary limits on how frequently your '
    'account (d-9067c98495.84f894a8) can send a request to Kiro while we investigate.","reason":null}')

# (status, body, kind, reason, retry_elsewhere, account_fault, fatal_for_request)
CASES = [
    (400, '{"message":"Improperly formed request.","reason":null}',
     K.MALFORMED_REQUEST, None, False, None, True),
    (400, '{"message":"Input is too long.","reason":"CONTENT_LENGTH_EXCEEDS_THRESHOLD"}',
     K.CONTENT_TOO_LONG, "CONTENT_LENGTH_EXCEEDS_THRESHOLD", False, None, True),
    (400, '{"__type":"com.amazon.coral.validate#ValidationException","message":"Input is too long."}',
     K.CONTENT_TOO_LONG, None, False, None, True),
    (400, '{"message":"Invalid tool use format.","reason":"REQUEST_BODY_INVALID"}',
     K.INVALID_TOOL_USE, "REQUEST_BODY_INVALID", False, None, True),
    (400, '{"message":"Invalid model. Please select a different model to continue.","reason":"INVALID_MODEL_ID"}',
     K.INVALID_MODEL, "INVALID_MODEL_ID", True, None, False),
    (400, '{"message":"profileArn is required for this request.","reason":null}',
     K.PROFILE_ARN_REQUIRED, None, True, None, False),
    (400, '{"message":"Tool use and result do not match.","reason":"TOOL_USE_RESULT_MISMATCH"}',
     K.MALFORMED_REQUEST, "TOOL_USE_RESULT_MISMATCH", False, None, True),
    (500, '{"message":"Bad tool schema.","reason":"TOOL_SCHEMA_INVALID"}',  # surfaced as 5xx: still fatal
     K.MALFORMED_REQUEST, "TOOL_SCHEMA_INVALID", False, None, True),
    (400, "Expected toolResult blocks at messages.2.content for the following Ids: tooluse_x",
     K.MALFORMED_REQUEST, None, False, None, True),
    (403, '{"message":"The bearer token included in the request is invalid.","reason":null}',
     K.TOKEN_INVALID, None, True, "token", False),
    (401, '{"__type":"AccessDeniedException","message":"The bearer token included in the request is invalid."}',
     K.TOKEN_INVALID, None, True, "token", False),
    (403, "ExpiredTokenException: The security token included in the request is expired",
     K.TOKEN_INVALID, None, True, "token", False),
    (403, SUSPENDED_2025, K.SUSPENDED, "TEMPORARILY_SUSPENDED", True, "banned", False),
    (403, SUSPENDED_2025.replace('"TEMPORARILY_SUSPENDED"', "null"), K.SUSPENDED, None, True, "banned", False),
    (403, SUSPENDED_2026, K.SUSPENDED, None, True, "banned", False),
    (403, '{"message":"Unable to fetch account usage data: Your User ID is temporarily suspended.",'
          '"error":{"reason":"temporarily_suspended"}}',
     K.SUSPENDED, "TEMPORARILY_SUSPENDED", True, "banned", False),
    (403, '{"__type":"AccessDeniedException","reason":"FEATURE_NOT_SUPPORTED"}',
     K.PERMISSION, "FEATURE_NOT_SUPPORTED", True, None, False),
    (403, '{"message":"User is not authorized to make this call."}', K.PERMISSION, None, True, None, False),
    (423, '{"__type":"AccountSuspendedException","message":"Account suspended"}',
     K.SUSPENDED, None, True, "banned", False),
    (402, '{"message":"You have reached the limit.","reason":"MONTHLY_REQUEST_COUNT"}',
     K.QUOTA_EXHAUSTED, "MONTHLY_REQUEST_COUNT", True, "quota", False),
    (402, '{"__type":"ServiceQuotaExceededException","message":"You have reached the limit."}',
     K.QUOTA_EXHAUSTED, None, True, "quota", False),
    (402, '{"message":"You have reached the limit.","error":{"reason":"MONTHLY_REQUEST_COUNT"}}',
     K.QUOTA_EXHAUSTED, "MONTHLY_REQUEST_COUNT", True, "quota", False),
    (402, '{"message":"You have reached the limit.","cause":{"$metadata":{"httpStatusCode":402},'
          '"name":"ServiceQuotaExceededException","reason":"MONTHLY_REQUEST_COUNT"}}',
     K.QUOTA_EXHAUSTED, "MONTHLY_REQUEST_COUNT", True, "quota", False),
    (402, '{"message":"You have reached the limit for overages.","reason":"OVERAGE_REQUEST_LIMIT_EXCEEDED"}',
     K.QUOTA_EXHAUSTED, "OVERAGE_REQUEST_LIMIT_EXCEEDED", True, "quota", False),
    (402, '{"message":"Conversation limit exceeded.","reason":"CONVERSATION_LIMIT_EXCEEDED"}',
     K.CONVERSATION_LIMIT, "CONVERSATION_LIMIT_EXCEEDED", False, None, True),
    (429, '{"message":"I am experiencing high traffic, please try again shortly.","reason":"INSUFFICIENT_MODEL_CAPACITY"}',
     K.CAPACITY, "INSUFFICIENT_MODEL_CAPACITY", False, None, False),
    (429, '{"__type":"ThrottlingException","message":"The model you\'ve selected is experiencing a high '
          'volume of traffic. Try changing the model and re-running your prompt."}',
     K.CAPACITY, None, False, None, False),
    (429, SUSPICIOUS, K.SUSPICIOUS_ACTIVITY, None, True, "throttled", False),
    (429, '{"message":"Too many requests, please wait before trying again.","reason":"USER_REQUEST_RATE_EXCEEDED"}',
     K.RATE_LIMITED, "USER_REQUEST_RATE_EXCEEDED", True, "throttled", False),
    (429, '{"message":"Too many requests, please wait before trying again.","reason":"SERVICE_REQUEST_RATE_EXCEEDED"}',
     K.RATE_LIMITED, "SERVICE_REQUEST_RATE_EXCEEDED", False, None, False),
    (429, '{"message":"Too many requests, please wait before trying again.","reason":"DAILY_REQUEST_COUNT"}',
     K.RATE_LIMITED, "DAILY_REQUEST_COUNT", True, "throttled", False),
    (429, "Too many requests, please wait before trying again.", K.RATE_LIMITED, None, True, "throttled", False),
    (500, '{"message":"Encountered an unexpected error when processing the request, please try again.","reason":null}',
     K.SERVER_ERROR, None, True, None, False),
    (500, '{"message":"Encountered unexpectedly high load when processing the request, please try again.",'
          '"reason":"MODEL_TEMPORARILY_UNAVAILABLE"}',
     K.CAPACITY, "MODEL_TEMPORARILY_UNAVAILABLE", False, None, False),
    (502, "<html><body><h1>502 Bad Gateway</h1></body></html>", K.GATEWAY, None, True, None, False),
    (503, "", K.GATEWAY, None, True, None, False),
    (504, "<html><head><title>504 Gateway Time-out</title></head></html>", K.GATEWAY, None, True, None, False),
    (524, "", K.GATEWAY, None, True, None, False),
    (404, '{"message":"Not here"}', K.UNKNOWN, None, False, None, False),
    (400, '{"message":"Something new.","reason":"SOME_FUTURE_REASON"}',
     K.MALFORMED_REQUEST, "SOME_FUTURE_REASON", False, None, True),
]


@pytest.mark.parametrize("status,body,kind,reason,elsewhere,fault,fatal", CASES)
def test_classify_known_bodies(status, body, kind, reason, elsewhere, fault, fatal):
    error = classify(status, body.encode())
    assert (error.kind, error.reason) == (kind, reason)
    assert error.status == status
    assert error.retry_elsewhere is elsewhere
    assert error.account_fault == fault
    assert error.fatal_for_request is fatal
    assert isinstance(error, Exception) and str(error) == error.message


def test_str_body_is_accepted_like_bytes():
    body = '{"message":"Input is too long.","reason":"CONTENT_LENGTH_EXCEEDS_THRESHOLD"}'
    assert classify(400, body).kind is classify(400, body.encode()).kind is K.CONTENT_TOO_LONG


def test_message_and_type_are_extracted():
    error = classify(400, b'{"__type":"com.amazon.coral.service#ValidationException",'
                          b'"message":"Input is too long.","reason":"CONTENT_LENGTH_EXCEEDS_THRESHOLD"}')
    assert error.message == "Input is too long."
    assert error.error_type == "ValidationException"


def test_plain_exception_text_gives_type_and_message():
    error = classify(403, b"ExpiredTokenException: The security token included in the request is expired")
    assert error.error_type == "ExpiredTokenException"
    assert error.message == "The security token included in the request is expired"


def test_html_body_gets_a_neutral_message():
    assert classify(502, b"<html>Bad Gateway</html>").message == "Kiro answered HTTP 502"
    assert classify(503, b"").message == "Kiro answered HTTP 503 with an empty body"


def test_error_type_header_is_used_when_body_has_none():
    error = classify(400, b'{"message":"x"}', {"X-Amzn-ErrorType": "ValidationException:http://internal/"})
    assert error.error_type == "ValidationException"


def test_request_id_header_is_kept():
    error = classify(500, b"", {"x-amzn-RequestId": "abc-123"})
    assert error.request_id == "abc-123"


# ---------------------------------------------------------------- Retry-After

@pytest.mark.parametrize("value,expected", [("7", 7), ("2.5", 3), ("0", 0), ("soon", None), ("-4", 0)])
def test_retry_after_seconds(value, expected):
    error = classify(429, b'{"message":"slow down","reason":"USER_REQUEST_RATE_EXCEEDED"}', {"Retry-After": value})
    assert error.retry_after == expected


def test_retry_after_http_date():
    error = classify(429, b"", {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412460.0)
    assert error.retry_after == 20


def test_retry_after_absent():
    assert classify(429, b"").retry_after is None


# ---------------------------------------------------------------- to_proxy_error

def test_too_long_keeps_kiro_message_and_code():
    err = classify(400, b'{"message":"Input is too long.","reason":"CONTENT_LENGTH_EXCEEDS_THRESHOLD"}').to_proxy_error()
    assert (err.kind, err.message, err.code) == (ErrorKind.CONTEXT_TOO_LONG, "Input is too long.",
                                                  "CONTENT_LENGTH_EXCEEDS_THRESHOLD")


def test_too_long_without_reason_still_gets_the_code():
    err = classify(400, b'{"__type":"ValidationException","message":"Input is too long."}').to_proxy_error()
    assert err.code == "CONTENT_LENGTH_EXCEEDS_THRESHOLD"


@pytest.mark.parametrize("body,code", [
    (b'{"message":"Improperly formed request.","reason":null}', None),
    (b'{"message":"Invalid tool use format.","reason":"REQUEST_BODY_INVALID"}', "REQUEST_BODY_INVALID"),
])
def test_request_shaped_errors_are_invalid_request(body, code):
    err = classify(400, body).to_proxy_error()
    assert (err.kind, err.code) == (ErrorKind.INVALID_REQUEST, code)
    assert err.message == classify(400, body).message


def test_invalid_model_names_the_model_field():
    err = classify(400, b'{"message":"Invalid model. Please select a different model to continue.",'
                        b'"reason":"INVALID_MODEL_ID"}').to_proxy_error()
    assert (err.kind, err.param, err.code) == (ErrorKind.INVALID_REQUEST, "model", "INVALID_MODEL_ID")


def test_capacity_is_overloaded():
    err = classify(429, b'{"message":"I am experiencing high traffic, please try again shortly.",'
                        b'"reason":"INSUFFICIENT_MODEL_CAPACITY"}').to_proxy_error()
    assert err.kind is ErrorKind.OVERLOADED


def test_rate_limit_defaults_retry_after_to_30():
    err = classify(429, b'{"message":"x","reason":"USER_REQUEST_RATE_EXCEEDED"}').to_proxy_error()
    assert (err.kind, err.retry_after, err.code) == (ErrorKind.RATE_LIMITED, 30, "USER_REQUEST_RATE_EXCEEDED")


def test_rate_limit_passes_retry_after_on():
    err = classify(429, b"", {"Retry-After": "12"}).to_proxy_error()
    assert err.retry_after == 12


def test_suspicious_activity_does_not_leak_the_account():
    err = classify(429, SUSPICIOUS.encode()).to_proxy_error()
    assert err.kind is ErrorKind.RATE_LIMITED
    assert "d-9067c98495" not in err.message and err.code is None


def test_quota_is_quota_exhausted():
    err = classify(402, b'{"message":"You have reached the limit.","reason":"MONTHLY_REQUEST_COUNT"}').to_proxy_error()
    assert (err.kind, err.code) == (ErrorKind.QUOTA_EXHAUSTED, "MONTHLY_REQUEST_COUNT")


@pytest.mark.parametrize("status,body", [
    (403, SUSPENDED_2025), (403, '{"message":"The bearer token included in the request is invalid."}'),
    (403, '{"__type":"AccessDeniedException","reason":"FEATURE_NOT_SUPPORTED"}'),
    (400, '{"message":"profileArn is required for this request.","reason":null}'),
])
def test_account_problems_reach_the_client_as_unavailable(status, body):
    err = classify(status, body.encode()).to_proxy_error()
    assert (err.kind, err.message, err.code) == (ErrorKind.UNAVAILABLE, "no usable Kiro account", None)


@pytest.mark.parametrize("status", [500, 502, 524])
def test_server_errors_are_upstream(status):
    err = classify(status, b"").to_proxy_error()
    assert (err.kind, err.message) == (ErrorKind.UPSTREAM, f"Kiro request failed (status {status}).")


# ---------------------------------------------------------------- network

def test_connection_error():
    error = KiroError.network(ConnectionRefusedError(111, "Connection refused"))
    assert (error.kind, error.status, error.is_timeout) == (K.NETWORK, 0, False)
    assert error.retry_elsewhere and error.transient and error.account_fault is None
    assert error.to_proxy_error().kind is ErrorKind.UPSTREAM


def test_timeout_error():
    error = KiroError.network(socket.timeout("timed out"))
    assert error.is_timeout and error.retry_elsewhere
    assert error.to_proxy_error().kind is ErrorKind.TIMEOUT


def test_library_timeout_is_recognised_by_name():
    class ReadTimeout(OSError):
        """Stands in for an HTTP library's timeout class."""
    assert KiroError.network(ReadTimeout("read")).is_timeout


# ---------------------------------------------------------------- in-stream exception frames

@pytest.mark.parametrize("exception_type,payload,kind,status", [
    ("ThrottlingException", b'{"message":"I am experiencing high traffic, please try again shortly. '
                            b'(INSUFFICIENT_MODEL_CAPACITY)"}', K.CAPACITY, 429),
    ("ThrottlingException", b'{"message":"Too many requests"}', K.RATE_LIMITED, 429),
    ("InternalServerException", b'{"message":"Encountered an unexpected error"}', K.SERVER_ERROR, 500),
    ("ValidationException", b'{"message":"Input is too long."}', K.CONTENT_TOO_LONG, 400),
    ("ValidationException", b'{"message":"Improperly formed request."}', K.MALFORMED_REQUEST, 400),
    ("ContentLengthExceededException", b'{"message":"Response exceeded the output limit"}', K.OUTPUT_LIMIT, 400),
    ("SomethingNewException", b"plain text", K.SERVER_ERROR, 500),
])
def test_classify_exception_frame(exception_type, payload, kind, status):
    error = classify_exception_frame(exception_type, payload)
    assert (error.kind, error.status, error.error_type) == (kind, status, exception_type)


def test_exception_frame_keeps_message():
    error = classify_exception_frame("ThrottlingException", b'{"message":"Too many requests"}')
    assert error.message == "Too many requests"
    assert classify_exception_frame("InternalServerException", b"boom").message == "boom"


def test_output_limit_is_not_fatal_nor_retried_elsewhere():
    error = classify_exception_frame("ContentLengthExceededException", b"{}")
    assert not error.fatal_for_request and not error.retry_elsewhere and error.account_fault is None


# ---------------------------------------------------------------- regressions

@pytest.mark.parametrize("message", [
    "INSUFFICIENT_MODEL_CAPACITY",  # the reason code only in the text of an exception frame
    "Model claude-opus-4.6 is MODEL_TEMPORARILY_UNAVAILABLE, try again",
])
def test_capacity_named_only_in_an_exception_frames_text_is_capacity_not_an_account_throttle(message):
    error = classify_exception_frame("ThrottlingException", ('{"message":"%s"}' % message).encode())
    assert error.kind is K.CAPACITY
    assert error.account_fault is None  # a service-wide pause must not rest the account


@pytest.mark.parametrize("status,body", [
    (429, '{"message":"I am experiencing high traffic, please try again shortly.",'
          '"reason":"INSUFFICIENT_MODEL_CAPACITY"}'),  # OVERLOADED: 529 / 503
    (403, SUSPENDED_2025),  # UNAVAILABLE: 503
    (400, '{"message":"profileArn is required for this request.","reason":null}'),
])
def test_every_overloaded_or_unavailable_answer_says_when_to_retry(status, body):
    err = classify(status, body.encode()).to_proxy_error()
    assert err.kind in (ErrorKind.OVERLOADED, ErrorKind.UNAVAILABLE)
    assert isinstance(err.retry_after, int) and err.retry_after > 0


def test_capacity_keeps_kiros_own_retry_after():
    err = classify(429, b'{"message":"x","reason":"INSUFFICIENT_MODEL_CAPACITY"}', {"Retry-After": "7"})
    assert err.to_proxy_error().retry_after == 7
