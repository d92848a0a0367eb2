"""FINDRISC (Lindstrom 2003, 0-26 form) and the ADA/CDC risk test (Bang 2009), hand-scored."""


def test_findrisc_complete_vector(scorer):
    # 58 y (3), BMI 27 (1), man waist 100 (3), inactive (2), no daily veg (1),
    # antihypertensive via thiazide (2), high glucose history (5), parent (5) = 22 -> very high
    result = scorer.score({"age": 58, "sex": "male", "bmi": 27, "waist": 100, "mvpa_minutes_per_week": 60,
                           "vegetables_fruit_daily": False, "medications": ["hydrochlorothiazide"],
                           "high_glucose_history": True, "family_history_diabetes": "first_degree"})
    f = result["established"]["findrisc"]
    assert f["complete"] is True and f["points"] == 22 and f["category"] == "very_high"
    anti = [i for i in f["items"] if i["item"] == "antihypertensive"][0]
    assert anti["source"] == "medications"


def test_findrisc_edges_are_as_stated(scorer):
    base = {"sex": "female", "mvpa_minutes_per_week": 210, "vegetables_fruit_daily": True, "hypertension": False,
            "high_glucose_history": False, "family_history_diabetes": "none"}
    def pts(**kw):
        return scorer.score({**base, **kw})["established"]["findrisc"]["points"]
    assert pts(age=44.9, bmi=24.9, waist=79.9) == 0
    assert pts(age=45, bmi=25, waist=80) == 2 + 1 + 3
    assert pts(age=64.9, bmi=30, waist=88) == 3 + 1 + 3
    assert pts(age=65, bmi=30.1, waist=88.1) == 4 + 3 + 4


def test_findrisc_incomplete_gives_a_range_not_a_guess(scorer, patient):
    f = scorer.score(patient)["established"]["findrisc"]
    assert f["complete"] is False
    # 52 y (2) BMI 31.2 (3) waist 104 (4) inactive (2) parent (5) = 16; missing veg (1), glucose history (5),
    # (the medication item is answered: a list without a blood-pressure medicine was given)
    assert f["points"] == 16 and f["points_range"] == [16, 22]
    assert f["category"] is None and f["category_range"] == ["high", "very_high"]
    assert {m["item"] for m in f["missing"]} == {"vegetables_fruit", "high_glucose"}
    unknown = scorer.score({k: v for k, v in patient.items() if k != "medications"})["established"]["findrisc"]
    assert "antihypertensive" in {m["item"] for m in unknown["missing"]}
    diagnosed = scorer.score({**patient, "hypertension": True, "medications": []})["established"]["findrisc"]
    item = next(i for i in diagnosed["items"] if i["item"] == "antihypertensive")
    assert item["value"] is False and item["points"] == 0   # FINDRISC asks about medication only


def test_ada_score(scorer, patient):
    a = scorer.score({**patient, "hypertension": True})["established"]["ada"]
    # 52 y (2) + male (1) + parent (1) + hypertension (1) + inactive (1) + BMI 31.2 (2) = 8
    assert a["complete"] is True and a["points"] == 8 and a["category"] == "high_risk"
    woman = scorer.score({"age": 39, "sex": "female", "gestational_diabetes": True, "family_history_diabetes": "none",
                          "hypertension": False, "mvpa_minutes_per_week": 200, "bmi": 24})["established"]["ada"]
    assert woman["points"] == 1 and woman["category"] == "lower_risk"
