"""The shared verdict: ok only without problems, JSON-ready, one readable line."""

from __future__ import annotations

import json

from vatio.ledger.verify import PROBLEM_KINDS, CosignerSeen, Problem, VerifyReport


def test_report_ok_follows_problems_and_serialises():
    good = VerifyReport.from_problems(
        [], size=3, root_hex="ab" * 32, verified_signers=["log"], checked_entries=3,
        checkpoint_size=3, cosigners=[CosignerSeen("w1", 0)],
    )  # fmt: skip
    assert good.ok
    assert good.summary() == "verified: 3 entries, checkpoint 3 signed by log, 1 cosigner(s)"
    d = json.loads(json.dumps(good.to_dict()))
    assert d["cosigners"] == [{"name": "w1", "timestamp": 0, "time": "1970-01-01T00:00:00+00:00"}]
    bad = VerifyReport.from_problems(
        [Problem("digest-mismatch", "run 1", "changed"), Problem("bad-signature", "cp", "x"),
         Problem("digest-mismatch", "run 2", "changed")],
        size=3, root_hex="00" * 32,
    )  # fmt: skip
    assert not bad.ok
    assert bad.summary().startswith(
        "NOT verified: 3 problem(s) (2 digest-mismatch, 1 bad-signature)"
    )
    assert "digest-mismatch at run 1: changed" in bad.summary()
    assert bad.to_dict()["problems"][1] == {"kind": "bad-signature", "where": "cp", "detail": "x"}


def test_every_kind_used_by_the_file_log_is_documented():
    import inspect

    from vatio.ledger import logcheck, logread, logtrust

    source = "".join(inspect.getsource(m) for m in (logcheck, logread, logtrust))
    used = {k for k in PROBLEM_KINDS if f'"{k}"' in source}
    assert used >= {"digest-mismatch", "missing-entry", "duplicate-entry", "reordered",
                    "bad-signature", "unknown-signer", "log-rewritten", "quorum-not-met",
                    "unsigned-entries", "malformed"}  # fmt: skip
