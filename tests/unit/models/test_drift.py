import math

from models.drift import _categorical_shares, _numeric_shares, drift_against, profile_reference, psi


def test_psi_by_hand():
    # (0.6-0.5)*ln(0.6/0.5) + (0.4-0.5)*ln(0.4/0.5) = 0.01823 + 0.02231
    assert math.isclose(psi([0.5, 0.5], [0.6, 0.4]), 0.1 * math.log(1.2) + 0.1 * math.log(1.25))
    assert psi([0.2, 0.8], [0.2, 0.8]) == 0.0


def test_same_population_has_no_drift_and_a_shift_does(spark):
    base = spark.createDataFrame([(float(i % 100), "EU" if i % 3 else "NA") for i in range(3000)], "x double, region string")
    reference = profile_reference(base, ["x"], ["region"], bins=5)
    same = drift_against(reference, base)
    assert same["x"] < 1e-6 and same["region"] < 1e-6
    shifted = spark.createDataFrame([(float(i % 100) + 50, "NA") for i in range(1000)], "x double, region string")
    moved = drift_against(reference, shifted)
    assert moved["x"] > 0.25 and moved["region"] > 0.25


def test_shares_count_missing_bins_and_other_categories(spark):
    rows = [(1.0, "EU"), (2.0, "EU"), (3.0, "NA"), (None, None), (float("nan"), "XX"), (9.0, "YY")]
    df = spark.createDataFrame(rows, "x double, region string")
    reference = _numeric_shares(df, {"x": [1.5, 2.5]})
    # null/NaN, <=1.5, <=2.5, above
    assert reference["x"] == [2 / 6, 1 / 6, 1 / 6, 2 / 6]
    shares = _categorical_shares(df, {"region": ["EU", "NA"]})
    assert shares["region"] == {"EU": 2 / 6, "NA": 1 / 6, "__missing__": 1 / 6, "__other__": 2 / 6}


def test_a_value_on_an_edge_falls_in_the_bin_below_and_no_edges_make_one_bin(spark):
    rows = [(1.5, 1e-05), (2.5, -3.0), (2.5000001, None), (-1e300, 7.0)]
    df = spark.createDataFrame(rows, "`x.odd` double, y double")
    shares = _numeric_shares(df, {"x.odd": [1.5, 2.5], "y": []})
    # null/NaN, <=1.5 (1.5 and -1e300), <=2.5 (2.5), above (2.5000001)
    assert shares["x.odd"] == [0.0, 2 / 4, 1 / 4, 1 / 4]
    assert shares["y"] == [1 / 4, 3 / 4]


def test_edges_of_any_size_and_sign_read_back_exactly_and_a_column_named_e_is_its_own(spark):
    edges = [-1e300, -0.0, 1e-05, 2.5, 1e300]
    rows = [(-2e300,), (-1e300,), (0.0,), (5e-06,), (1e-05,), (1.0000001e-05,), (2.5,), (1e301,), (float("inf"),)]
    df = spark.createDataFrame(rows, "e double")
    shares = _numeric_shares(df, {"e": edges})
    # null/NaN, <=-1e300 (2), <=-0.0 (0.0), <=1e-05 (5e-06, 1e-05), <=2.5 (1.0000001e-05, 2.5), <=1e300 (none), above (2)
    assert shares["e"] == [0.0, 2 / 9, 1 / 9, 2 / 9, 2 / 9, 0.0, 2 / 9]
