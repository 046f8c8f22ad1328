from pipelines.jobs.promote import decide


def test_decide_refuses_worse_and_accepts_better_or_equal_within_margin():
    assert decide({"m": 0.50}, {"m": 0.60}, "m", 0.05) == (False, "challenger m=0.5000 < champion 0.6000 - margin 0.05")
    assert decide({"m": 0.58}, {"m": 0.60}, "m", 0.05)[0] is True
    assert decide({"m": 0.70}, {"m": 0.60}, "m", 0.0)[0] is True
    assert decide({}, {"m": 0.60}, "m", 0.0)[0] is False
    assert decide({"m": 0.1}, {}, "m", 0.0)[0] is True
