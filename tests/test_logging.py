import json
import logging

from socstat.logging_setup import JsonFormatter, TextFormatter, _ContextFilter, log_context, redact


def _record(message: str) -> logging.LogRecord:
    record = logging.LogRecord("socstat.test", logging.INFO, __file__, 1, message, None, None)
    _ContextFilter().filter(record)
    return record


def test_secrets_are_redacted():
    text = redact("GET /method/wall.get?access_token=vk1.a.SECRET&v=5.199 password=hunter2")
    assert "SECRET" not in text
    assert "hunter2" not in text
    assert "v=5.199" in text


def test_json_lines_carry_context():
    with log_context(job="collect", run_id=7):
        line = JsonFormatter().format(_record("run started token=abc123"))
    entry = json.loads(line)
    assert entry["msg"] == "run started token=***"
    assert entry["job"] == "collect"
    assert entry["run_id"] == "7"
    assert entry["level"] == "INFO"


def test_text_lines_carry_context():
    with log_context(request_id="r1"):
        line = TextFormatter().format(_record("hello"))
    assert line.endswith("hello [request_id=r1]")
