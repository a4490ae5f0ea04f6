"""Issue 12.9: message ids are scoped per sender, without revealing another sender's ids.

bravo probes whether alpha used an id (to learn of a message it was not sent, and its index):
it submits a message under the same id. Before, the answer was 409 "exists with another body
(index N)"; now bravo's message is simply accepted under its own scope, and a conflict answer
only ever concerns the caller's own messages.
"""

from __future__ import annotations

from typing import Any

from tests.exchange.conftest import message, post, problem_slug


def test_another_senders_id_is_neither_a_conflict_nor_revealed(client: Any) -> None:
    secret = message("free_text", sender="alpha", recipient="charlie")
    first = post(client, secret)
    assert first.status_code == 201
    probe = message("free_text", sender="bravo", recipient="alpha", message_id=secret["message_id"])
    answer = post(client, probe)
    assert answer.status_code == 201, answer.text  # not a 409 that confirms alpha used the id
    assert answer.json()["index"] != first.json()["index"]
    # each sender's resubmission is idempotent within its own scope …
    assert post(client, secret).json() == first.json()
    assert post(client, probe).json() == answer.json()
    # … and a conflict names only the caller's own message
    changed = dict(probe, text="another body", nonce="n" * 22, seq=probe["seq"] + 1)
    conflict = post(client, changed)
    assert conflict.status_code == 409 and problem_slug(conflict) == "conflict"
    assert f"index {answer.json()['index']}" in conflict.json()["detail"]
    assert f"index {first.json()['index']}" not in conflict.json()["detail"]
