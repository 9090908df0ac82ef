"""Chapter 07's pieces: RR features, EC57 counting, beat inputs, the saved model, the split."""
import numpy as np
import pytest

import ecgutils as eu
from ecgutils import ec57
from ecgutils import interpatient as ip
from ecgutils.beats import Beats
from ecgutils.interpatient import BeatSpec, build_beats, record_inputs
from ecgutils.rr import RHYTHM_CONTEXT_FEATURES, RR_FEATURES, rhythm_context, rr_features
from conftest import requires_data, synthetic_ecg


# ----------------------------------------------------------------- RR features
def test_rr_features_on_a_rhythm_with_known_intervals():
    # 0.8 s sinus rhythm, one beat 0.3 s early (pre 0.5 s, post 1.1 s: compensatory pause)
    fs = 250
    rr = np.full(40, 0.8)
    rr[20], rr[21] = 0.5, 1.1
    t = np.concatenate([[1.0], 1.0 + np.cumsum(rr)])
    f = rr_features(np.round(t * fs).astype(int), fs, local_beats=4)
    col = {name: f[:, i] for i, name in enumerate(RR_FEATURES)}
    early = 21  # the beat that ends the 0.5-s interval
    assert col["pre_rr"][early] == pytest.approx(0.5, abs=1 / fs)
    assert col["post_rr"][early] == pytest.approx(1.1, abs=1 / fs)
    assert col["local_rr"][early] == pytest.approx((0.8 * 3 + 0.5) / 4, abs=1 / fs)
    mean_rr = np.diff(t).mean()
    assert col["pre_rr_norm"][early] == pytest.approx(0.5 / mean_rr, rel=1e-2)
    assert col["post_rr_norm"][early] == pytest.approx(1.1 / mean_rr, rel=1e-2)
    assert col["pre_to_local"][early] == pytest.approx(0.5 / ((0.8 * 3 + 0.5) / 4), rel=1e-2)
    # a regular rhythm: every normalised interval is 1 and nothing is irregular
    assert col["pre_rr_norm"][5] == pytest.approx(0.8 / mean_rr, rel=1e-2)
    assert col["irregularity"][5] == pytest.approx(0, abs=1e-6)
    # the rhythm around the early beat is steady: one interval changes, the median does not
    assert col["median_change_10"][early] == pytest.approx(0, abs=1e-6)
    assert 0 < col["changing_share_10"][early] < 0.2
    # first and last beats borrow the neighbouring interval
    assert col["pre_rr"][0] == pytest.approx(col["post_rr"][0])
    assert col["post_rr"][-1] == pytest.approx(col["pre_rr"][-1])


def test_causal_normalisation_uses_only_past_beats():
    fs = 100
    rr = np.r_[np.full(50, 1.0), np.full(50, 0.5)]  # the rate doubles halfway
    t = np.r_[0, np.cumsum(rr)]
    samples = np.round(t * fs).astype(int)
    causal = rr_features(samples, fs, normalise="causal", running_beats=10)
    offline = rr_features(samples, fs, normalise="record")
    i = 40  # before the change: the causal average has seen only 1.0-s intervals
    assert causal[i, 3] == pytest.approx(1.0)
    assert offline[i, 3] == pytest.approx(1.0 / rr.mean(), rel=1e-3)
    # changing a later interval must not change the causal features of earlier beats
    later = samples.copy()
    later[80:] += 7
    assert np.allclose(rr_features(later, fs, normalise="causal", running_beats=10)[:78],
                       causal[:78])


@pytest.mark.parametrize("bad, match", [([5], "at least 2"), ([5, 5, 9], "strictly increasing")])
def test_rr_features_refuses_bad_peaks(bad, match):
    with pytest.raises(ValueError, match=match):
        rr_features(bad, 100)


# ----------------------------------------------------------------- EC57 counting
def test_gross_statistics_against_hand_counts():
    # reference:  N N N N N N S S S V V F Q
    # predicted:  N N N N S V S S N V S V N
    ref = list("NNNNNNSSSVVFQ")
    pred = list("NNNNSVSSNVSVN")
    g = ec57.gross_statistics(ref, pred)
    # S: TP 2 (two S called S), FN 1 (S called N), FP 2 (N->S, V->S)
    assert (g["S"]["tp"], g["S"]["fn"], g["S"]["fp"]) == (2, 1, 2)
    assert g["S"]["se"] == pytest.approx(2 / 3, abs=1e-4)
    assert g["S"]["ppv"] == pytest.approx(0.5)
    assert g["S"]["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5), abs=1e-4)
    # V: TP 1, FN 1 (V->S), FP 1 (N->V; F->V is no false positive under EC57's rule)
    assert (g["V"]["tp"], g["V"]["fn"], g["V"]["fp"]) == (1, 1, 1)
    assert g["fusion_as_v"] == 1
    strict = ec57.gross_statistics(ref, pred, fusion="strict")
    assert (strict["V"]["tp"], strict["V"]["fn"], strict["V"]["fp"]) == (1, 1, 2)
    # N: TP 4, FN 2, FP 1 (S->N); the Q beat is not counted
    assert (g["N"]["tp"], g["N"]["fn"], g["N"]["fp"]) == (4, 2, 1)
    assert g["n_beats"] == 12
    assert g["accuracy"] == pytest.approx(7 / 12, abs=1e-4)
    j = 2 / 3 + 0.5 + 0.5 + 0.5
    assert g["j_index"] == pytest.approx(j, abs=1e-3)
    assert g["jk_index"] == pytest.approx(g["kappa"] / 2 + j / 8, abs=1e-3)


def test_unmatched_beats_count_as_misses_and_extras():
    ref, pred = ec57.match_annotations([100, 500, 900, 1300], list("NSVN"),
                                       [101, 505, 1100, 1299], list("NSSN"), fs=360,
                                       learning_s=0)
    g = ec57.gross_statistics(ref, pred)
    # V at 900 has no detection within 54 samples: a miss; the S at 1100 is an extra
    assert g["V"]["fn"] == 1 and g["V"]["tp"] == 0
    assert (g["S"]["tp"], g["S"]["fp"]) == (1, 1)
    assert g["n_beats"] == 4


def test_per_record_statistics_gives_nan_for_absent_classes():
    table = ec57.per_record_statistics(list("NNSV"), list("NNSV"), ["a", "a", "b", "b"])
    assert np.isnan(table.loc["a", "S Se"])
    assert table.loc["b", "S Se"] == 1.0 and table.loc["a", "beats"] == 2


# ----------------------------------------------------------------- beat inputs
def test_record_inputs_at_any_rate_give_the_same_shapes_and_rr():
    spec = BeatSpec()
    for fs in (128, 250, 360):
        x, peaks = synthetic_ecg(fs, 30)
        windows, rr = record_inputs(x, fs, peaks, spec)
        assert windows.shape == (len(peaks), spec.window_length, spec.n_channels)
        assert rr.shape == (len(peaks), len(spec.feature_names))
        assert np.isfinite(windows).all() and np.isfinite(rr).all()
        # the R peak sits at the same place of every window, scaled to about 1
        r = round(spec.before_s * spec.fs)
        assert np.median(windows[:, r, 0]) == pytest.approx(windows[:, :, 0].max(axis=1).mean(),
                                                            rel=0.2)


def test_record_inputs_find_r_from_early_marks_and_fix_polarity():
    fs = 250
    x, peaks = synthetic_ecg(fs, 30)
    spec = BeatSpec()
    ref, _ = record_inputs(x, fs, peaks, spec)
    early, _ = record_inputs(-x, fs, peaks - round(0.04 * fs), spec)  # 40 ms early, upside down
    assert np.corrcoef(ref[:, :, 0].ravel(), early[:, :, 0].ravel())[0, 1] > 0.95


def test_rhythm_context_tells_fibrillation_from_premature_beats_in_a_steady_rhythm():
    """The same short interval: premature in a steady rhythm, ordinary in fibrillation."""
    steady = np.tile([1.0] * 8 + [0.6, 1.4], 20)             # an early beat every 10 beats
    fibrillation = np.random.default_rng(1).uniform(0.4, 1.4, 200)
    col = {name: i for i, name in enumerate(RHYTHM_CONTEXT_FEATURES)}
    early = rhythm_context(steady)[38:160:10]                 # away from the edges
    irregular = rhythm_context(fibrillation)
    assert np.all(early[:, col["median_change_10"]] == 0)    # most intervals do not change
    assert np.median(irregular[:, col["median_change_10"]]) > 0.2
    share = col["changing_share_30"]
    assert np.median(irregular[:, share]) > 2 * early[:, share].max()
    # ratios only: the unit of the intervals does not matter
    assert np.allclose(rhythm_context(fibrillation * 360), irregular, atol=1e-5)
    with pytest.raises(ValueError, match="1-D"):
        rhythm_context(np.ones((3, 2)))


def test_forest_features_measure_each_record_against_its_on_time_beats():
    """A premature majority does not become the template: the on-time beats are."""
    spec = BeatSpec()
    t = np.arange(spec.window_length)
    r = round(spec.before_s * spec.fs)
    usual = np.exp(-((t - r) / 2.0) ** 2)
    ectopic = usual - 0.3 * np.exp(-((t - r + 20) / 3.0) ** 2)  # an inverted P wave
    early = np.r_[np.zeros(25, bool), np.ones(60, bool)]        # 60 early beats of 85
    windows = np.where(early[:, None], ectopic, usual)
    rr = np.where(early, 0.7, 1.3)[:, None] * np.ones((1, len(spec.rr_features)))
    beats = Beats(np.full(85, "x"), np.arange(85), np.where(early, "S", "N"),
                  windows=np.stack([windows, windows], -1).astype("float32"),
                  rr=rr.astype("float32"))
    features = ip.forest_features(beats, spec)
    n_rr = 6  # the forest's own RR columns; neither the CNN's local rhythm nor its context
    assert features.shape[1] == 22
    assert features.shape == (85, n_rr + len(ip.MORPHOLOGY_FEATURES)
                              + len(RHYTHM_CONTEXT_FEATURES))
    deviation_p = features[:, n_rr + ip.MORPHOLOGY_FEATURES.index("deviation_p")]
    assert np.all(deviation_p[~early] < 1e-6) and np.all(deviation_p[early] > 0.01)
    # the median of all beats would be the premature majority's beat
    column = n_rr + ip.MORPHOLOGY_FEATURES.index("deviation_p")
    assert np.all(ip.forest_features(beats, spec, template_beats="all")[early, column] < 1e-6)
    with pytest.raises(ValueError, match="pre_rr_norm"):
        ip.forest_features(beats, BeatSpec(rr_features=("post_rr_norm",)))


@requires_data
def test_ds1_ds2_beats_have_the_published_counts():
    counts = build_beats(eu.data.DS2).counts().sum()
    # de Chazal et al. (2004), table: DS2 holds 44,259 N, 1,837 S, 3,221 V, 388 F, 7 Q
    assert counts.to_dict() == {"F": 388, "N": 44259, "Q": 7, "S": 1837, "V": 3221}


# ----------------------------------------------------------------- the protocol
def _beatset(records, per_record=30):
    n = per_record * len(records)
    labels = np.tile(np.array(["N"] * (per_record - 10) + ["S"] * 5 + ["V"] * 5), len(records))
    return Beats(np.repeat([str(r) for r in records], per_record), np.arange(n), labels,
                 db=np.full(n, "mitdb"), windows=np.zeros((n, 90, 2), "float32"),
                 rr=np.ones((n, 6), "float32"))


def test_select_records_refuses_any_ds2_record():
    beats = _beatset(list(eu.data.DS1[:8]) + ["232"])
    with pytest.raises(ValueError, match=r"\['232'\].*never reach"):
        ip.select_records(beats)


def test_select_records_refuses_any_external_record():
    beats = _beatset(list(eu.data.DS1[:8]))
    db = np.where(beats.record == eu.data.DS1[0], "qtdb", "mitdb")
    beats = Beats(beats.record, beats.sample, beats.label, db=db, windows=beats.windows,
                  rr=beats.rr)
    with pytest.raises(ValueError, match="another database.*never reach"):
        ip.select_records(beats)


def test_select_records_splits_patients_and_covers_s_and_v():
    beats = _beatset(eu.data.DS1)
    splits = ip.select_records(beats, 0.3, seed=1, min_count=5)
    assert not set(splits["train"]) & set(splits["val"])
    assert sorted(splits["train"] + splits["val"]) == sorted(eu.data.DS1)
    assert len(splits["val"]) == round(0.3 * len(eu.data.DS1))
    val = beats.subset(beats.records_mask(splits["val"]))
    assert {"S", "V"} <= set(val.label)


def test_qtdb_sources_and_no_mitdb_excerpt_in_the_external_set():
    assert ip.qtdb_source("sel232") == "mitdb" and ip.qtdb_source("sel17152") == "other"
    assert ip.qtdb_source("sel14046") == "ltdb" and ip.qtdb_source("sel30") == "sddb"


@requires_data
def test_external_records_are_the_67_labelled_ones_from_other_databases():
    records = ip.external_records()
    assert len(records) == 67
    assert not [r for r in records if ip.qtdb_source(r) in ("mitdb", "sddb")]


def test_train_and_evaluate_selects_on_validation_and_predicts_test_once():
    from ecgutils.models import import_tensorflow

    import_tensorflow()
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    out = eu.experiment.train_and_evaluate(model, (x[:120], y[:120]), (x[120:160], y[120:160]),
                                           (x[160:], y[160:]), epochs=4, batch_size=32,
                                           patience=10, verbose=False)
    assert 1 <= out["best_epoch"] <= 4 and out["timing"]["epochs_run"] == 4
    assert out["best_score"] == max(out["history"]["val_selection"])
    assert out["y_score"].shape == (40, 2) and out["y_pred"].shape == (40,)
    refit = eu.experiment.train_and_evaluate(model, (x, y), None, epochs=2, verbose=False)
    assert refit["best_epoch"] == 2 and refit["best_score"] is None


def _patient_beats(records, n=64, seed=0, columns=17):
    """Beats whose RR features tell their patient apart; classes unrelated to patients."""
    rng = np.random.default_rng(seed)
    patient = np.repeat(np.arange(len(records)), n)
    rr = rng.normal(size=(len(patient), columns)).astype("float32")
    rr[:, :4] += 3.0 * patient[:, None]
    return Beats(np.asarray(records)[patient], np.arange(len(patient)),
                 list("NSV" * n)[:n] * len(records),
                 windows=rng.normal(size=(len(patient), 90, 2)).astype("float32"), rr=rr)


def test_patient_adversary_keeps_patient_identity_out_of_the_embedding():
    # Four patients told apart by four RR columns, a class by a fifth. Without the
    # adversary's pressure the embedding keeps who the patient is (a new linear probe
    # reads it); with it the adversary is left at chance and the probe does worse,
    # while the class is learnt all the same.
    import keras
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    from ecgutils.models import build_interpatient_model, patient_adversarial

    beats = _patient_beats(["a", "b", "c", "d"])
    patient, cls = np.repeat(np.arange(4), 64), (beats.rr[:, 5] > 0).astype(int)
    x = ip.model_inputs(beats)
    out = {}
    for strength in (0.0, 1.0):
        keras.utils.set_random_seed(0)
        clf = build_interpatient_model(rr_train=beats.rr, learning_rate=3e-3)
        wrapper = patient_adversarial(clf, 4, strength)
        history = wrapper.fit(x, np.stack([cls, patient], axis=1), epochs=20, batch_size=32,
                              verbose=0).history
        embedding = keras.Model(clf.inputs, clf.get_layer("embedding").output)
        probe = cross_val_score(LogisticRegression(max_iter=3000),
                                embedding.predict(x, verbose=0), patient, cv=4).mean()
        accuracy = np.mean(clf.predict(x, verbose=0).argmax(1) == cls)
        out[strength] = history["adversary_loss"][-1], probe, accuracy
    assert out[0.0][0] < 1.2 and out[1.0][0] > 0.95 * np.log(4)   # chance: log 4
    assert out[1.0][1] < out[0.0][1] - 0.1
    assert out[0.0][2] > 0.95 and out[1.0][2] > 0.95


def test_train_classifier_with_an_adversary_returns_the_classifier_alone(tmp_path):
    import keras

    beats = _patient_beats(["a", "b", "c"])
    fit = ip.train_classifier(beats, beats, seed=0, epochs=2, verbose=False, adversary=0.5)
    model = fit["model"]
    assert model.name == "interpatient_cnn" and "adversary_loss" in fit["history"]
    assert [tuple(t.shape) for t in model.outputs] == [(None, 3)]
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    x = ip.model_inputs(beats.subset(np.arange(len(beats)) < 5))
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


def test_a_teacher_moves_the_network_towards_its_probabilities(tmp_path):
    # Labels cycle N, S, V; a teacher that always says S. Learning from the teacher
    # alone, the network calls most beats S; from the labels alone, it does not.
    import keras

    beats = _patient_beats(["a", "b", "c"])
    teacher = np.tile(np.array([[0.0, 1.0, 0.0]], "float32"), (len(beats), 1))
    x = ip.model_inputs(beats)

    def share_s(weight):
        fit = ip.train_classifier(beats, None, seed=0, epochs=8, verbose=False,
                                  teacher=teacher, teacher_weight=weight)
        return float(np.mean(fit["model"].predict(x, verbose=0).argmax(1) == 1)), fit

    alone, fit = share_s(1.0)
    assert alone > 0.9 and share_s(0.0)[0] < 0.5
    fit["model"].save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(again.predict(x, verbose=0),
                               fit["model"].predict(x, verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match="one row of 3 probabilities per training beat"):
        ip.train_classifier(beats, None, epochs=1, verbose=False, teacher=teacher[:5])
    with pytest.raises(ValueError, match="teacher cannot be combined"):
        ip.train_classifier(beats, None, epochs=1, verbose=False, teacher=teacher,
                            adversary=0.3)


def test_record_balanced_weights_even_out_records_and_keep_class_totals():
    rng = np.random.default_rng(0)
    records = np.repeat(["209", "201", "118", "220"], [400, 130, 90, 380])
    y = np.where(rng.random(1000) < 0.3, 1, 0)
    y[:380] = 1                                 # record 209 holds most of class 1
    def spread(power):    # largest record's total weight of class 1 over the smallest
        w = ip.record_balanced_weights(y, records, power)
        for c in (0, 1):
            assert np.isclose(w[y == c].sum(), (y == c).sum(), rtol=1e-4)
        totals = [w[(y == 1) & (records == r)].sum() for r in np.unique(records)]
        return max(totals) / min(totals)

    assert spread(0.0) > spread(0.5) > 1.5 and np.isclose(spread(1.0), 1.0, rtol=1e-4)
    assert np.allclose(ip.record_balanced_weights(y, records, 0.0), 1.0)


def test_the_registry_trains_an_adversary_only_with_the_records_of_the_beats():
    # Without record names every beat would be one patient and the adversary would
    # silently do nothing.
    cnn = eu.pipelines.PIPELINES["interpatient"]
    train, val = _patient_beats(["a", "b", "c"]), _patient_beats(["d"], seed=1)
    data = [(ip.model_inputs(b), ip.class_indices(b)) for b in (train, val)]
    with pytest.raises(ValueError, match="adversary needs records"):
        cnn.train(*data, seed=0, epochs=1, verbose=False, adversary=0.3)
    fit = cnn.train(*data, seed=0, epochs=1, verbose=False, adversary=0.3,
                    records=(train.record, val.record))
    assert "adversary_loss" in fit["history"] and fit["model"].name == "interpatient_cnn"


def test_fit_headline_refits_the_chosen_head_on_training_and_validation_beats():
    # The returned model learnt from the validation beats too (its RR normalisation is
    # fitted on both); the selection model, which chose head, epochs and threshold, did not.
    rng = np.random.default_rng(0)
    spec = BeatSpec()

    def beats(records, shift):
        n = 60 * len(records)
        return Beats(np.repeat(records, 60), np.arange(n), list("NNSV") * (n // 4),
                     windows=rng.normal(size=(n, 90, 2)).astype("float32"),
                     rr=(rng.normal(size=(n, 17)) + shift).astype("float32"))

    train, val = beats(["a", "b", "c"], 0.0), beats(["d"], 5.0)
    fit = ip.fit_headline(train, val, spec, seed=0, epochs=1, augment=None, verbose=False,
                          refit=True)
    assert fit["refit"] and fit["model"] is not fit["selection_model"]

    def rr_mean(model):
        return np.asarray(model.get_layer("rr_normalization").mean).ravel()

    both = np.concatenate([train.rr, val.rr])
    np.testing.assert_allclose(rr_mean(fit["model"]), both.mean(0), atol=1e-3)
    np.testing.assert_allclose(rr_mean(fit["selection_model"]), train.rr.mean(0), atol=1e-3)
    x = [val.windows[:5], val.rr[:5]]
    assert not np.allclose(fit["model"].predict(x, verbose=0),
                           fit["selection_model"].predict(x, verbose=0))
    alone = ip.fit_headline(train, val, spec, seed=0, epochs=1, augment=None,
                            verbose=False)  # chapter 07's default: no refit
    assert alone["model"] is alone["selection_model"] and not alone["refit"]


RULE = BeatSpec(premature_rule=(0.85, 0.1))


def test_the_premature_rule_flag_is_the_last_rr_column_and_old_files_go_without():
    from ecgutils.rr import regular_premature

    spec = RULE
    assert spec.premature_rule and spec.feature_names[-1] == "regular_premature"
    fs = 250
    t = np.r_[np.arange(0.5, 20, 0.8), 20.2, np.arange(20.9, 40, 0.8)]   # one beat 0.5 s early
    x = np.exp(-((np.arange(41 * fs)[:, None] / fs - t) / 0.01) ** 2).sum(1)
    _, rr = record_inputs(x, fs, np.round(t * fs).astype(int), spec)
    assert rr.shape[1] == len(spec.feature_names)
    assert np.array_equal(rr[:, -1] == 1, regular_premature(np.diff(t, prepend=t[0] - 0.8)))
    assert np.flatnonzero(rr[:, -1]).tolist() == [np.searchsorted(t, 20.2)]
    off = BeatSpec()
    assert off.premature_rule == () and "regular_premature" not in off.feature_names
    assert np.allclose(record_inputs(x, fs, np.round(t * fs).astype(int), off)[1], rr[:, :-1])
    # a file saved before the rule existed has no such field: it labels without the rule
    saved = spec.to_dict()
    del saved["premature_rule"]
    assert BeatSpec.from_dict(saved).premature_rule == ()
    assert BeatSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize("rule, classes", [((1.2, 0.1), ("N", "S", "V")),
                                           ((0.85,), ("N", "S", "V")),
                                           ((0.85, 0.1), ("N", "V")),
                                           ((0.85, 0.1), ("N", "S", "F"))])
def test_a_bad_premature_rule_is_refused(rule, classes):
    with pytest.raises(ValueError, match="premature_rule"):
        BeatSpec(premature_rule=rule, classes=classes)


def test_train_classifier_returns_the_network_with_the_rule_on_its_output():
    beats = _patient_beats(["a", "b", "c", "d"], columns=18)
    beats.rr[:, -1] = np.arange(len(beats)) % 3 == 0          # every third beat flagged
    fit = ip.train_classifier(beats, None, RULE, seed=0, epochs=1, verbose=False)
    p = fit["model"].predict(ip.model_inputs(beats), verbose=0)
    flagged = beats.rr[:, -1] == 1
    assert fit["model"].get_layer("premature_rule") is not None
    # a flagged beat loses P(N) to S unless the network labels it V
    labelled_v = p[:, 2] > p[:, :2].max(1)
    assert np.all((p[flagged, 0] == 0) | labelled_v[flagged]) and np.all(p[~flagged, 0] > 0)
    assert (p[flagged, 0] == 0).sum() > 10
    assert np.allclose(p.sum(1), 1, atol=1e-5)
    without = Beats(beats.record, beats.sample, beats.label, windows=beats.windows,
                    rr=beats.rr[:, :-1])
    plain = ip.train_classifier(without, None, seed=0, epochs=1, verbose=False)
    assert "premature_rule" not in [layer.name for layer in plain["model"].layers]


def test_training_warm_up_runs_once_and_changes_no_result(monkeypatch):
    beats = _patient_beats(["a", "b", "c"], n=32)
    calls = []
    real = ip._warm_up_training
    monkeypatch.setattr(ip, "_warm_up_training",
                        lambda *args: (calls.append(1), real(*args)))

    def weights(warmed):
        monkeypatch.setattr(ip, "_warmed_up", warmed)
        fit = ip.train_classifier(beats, None, seed=0, epochs=1, verbose=False,
                                  augment=ip.AUGMENT)
        return fit["model"].get_weights()

    cold, warm = weights(False), weights(True)       # the step taken, then already taken
    assert ip._warmed_up and len(calls) == 2
    # were the step taken after the seeds, the two networks would start apart
    assert all(np.array_equal(a, b) for a, b in zip(cold, warm))
