"""The malformed-input corpus (cases.py, corpus/): every input ends in a clean error or a correct
result, within 10 CPU-seconds and 1 GiB. Run `python tests/fuzz/harness.py` for the figures and the
cases that fail."""
import harness


def test_every_malformed_input_ends_in_a_clean_error_or_a_correct_result():
    records = harness.run()
    figures = harness.figures(records)
    bad = [f"{r['outcome']} {r['id']}: {r['detail'][:300]}" for r in records if r["outcome"] not in ("error", "ok")]
    assert not bad, f"{figures}\n" + "\n".join(bad)
    assert figures["cases"] >= 105 and figures["error"] + figures["ok"] == figures["cases"]
