import math

from models.drift import drift_against, profile_reference, psi


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
