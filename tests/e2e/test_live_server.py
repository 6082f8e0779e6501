"""The browser tests' server closes a response body the browser stopped reading."""

from __future__ import annotations

from tests.e2e.conftest import closing_on_drop


class Body:
    closed = False

    def __iter__(self):
        yield b"first"
        yield b"second"

    def close(self) -> None:
        self.closed = True


def test_a_half_read_body_is_closed_when_dropped():
    body = Body()
    chunks = closing_on_drop(lambda environ, start_response: body)({}, None)
    assert next(chunks) == b"first"
    del chunks  # the server gave up on the connection
    assert body.closed


def test_a_body_read_to_the_end_is_closed():
    body = Body()
    assert list(closing_on_drop(lambda environ, start_response: body)({}, None)) == [
        b"first", b"second"]
    assert body.closed
