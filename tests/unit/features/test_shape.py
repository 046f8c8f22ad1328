import math

from consignment_frames import consignments

from features.shape import build_shape_features

PARAMS = {"small_parcel_modes": ["POST", "EXPRESS"], "small_parcel_max_packages": 3}


def test_shape_features(spark):
    c = consignments(spark, [
        {"consignment_id": "A", "transport_mode": "EXPRESS", "package_count": 2, "total_value_hkd": 999.0},
        {"consignment_id": "B", "transport_mode": "EXPRESS", "package_count": 5, "n_items": 3},
        {"consignment_id": "C", "transport_mode": "SEA", "package_count": 1, "total_value_hkd": None},
        {"consignment_id": "D", "transport_mode": "POST", "package_count": 3, "gross_weight_kg": 1.5},
    ])
    out = {r["consignment_id"]: r for r in build_shape_features(c, PARAMS).collect()}
    assert [out[k]["is_small_parcel"] for k in "ABCD"] == [1, 0, 0, 1]  # POST/EXPRESS with <= 3 packages
    assert math.isclose(out["A"]["log_total_value_hkd"], math.log(1000.0))  # ln(1 + 999)
    assert out["C"]["log_total_value_hkd"] == 0.0  # no HKD value: ln(1 + 0)
    assert out["B"]["n_items"] == 3 and out["D"]["gross_weight_kg"] == 1.5 and out["D"]["package_count"] == 3
    assert out["C"]["transport_mode"] == "SEA"
