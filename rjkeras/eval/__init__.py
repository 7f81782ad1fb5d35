"""The evaluation wing, under the thin commands `rjkeras.evaluate`, `rjkeras.figures` and
`rjkeras.human_eval`:

    sources      what is evaluated: a work dir's model or a SavedModel, behind one interface
    options      what `evaluate` and `train_judge` take (`Options`, `JudgeTraining`) and the
                 checks that need nothing else
    evaluation   the protocol (seeds, real and generated sets) and the report
    fvd, i3d     Frechet Video Distance with I3D (paper section 5.1); i3d_convert: the command
                 that converts the TF-Hub module's weights (`python -m rjkeras.eval.i3d`)
    judge        the classifier behind the Inception Score, judge_fd and disentanglement
    metrics      Inception Score, a Frechet distance in the judge's space, disentanglement
    figures      the paper's qualitative figures (PNG, GIF, TensorBoard)
    study        the 2AFC study: pairs, balanced sides, the page (study_page/), the key
    scoring      the 2AFC scores: Mean Worker Preference and its interval
"""
