"""I3D (Inception-v1 inflated to 3D; Carreira & Zisserman 2017), trained on Kinetics-400, for FVD.

FVD's reference code (Unterthiner et al.) feeds videos in [-1, 1] to the TF-Hub module
`deepmind/i3d-kinetics-400/1` and takes the tensor `RGB/inception_i3d/Mean:0`: the 400 logits
averaged over time. No weights can be downloaded here, so they come from a path the user gives
(`load_i3d`), in one of two forms:

1. The TF-Hub module's folder itself (the `i3d-kinetics-400` SavedModel, TF1 Hub format), run
   as it is: exactly the reference's network.
2. A `.weights.h5` file converted from that folder into the Keras architecture below
   (`python -m rjkeras.eval.i3d --saved_model=DIR --output=i3d_kinetics400.weights.h5`), which
   needs neither TF1 graph loading nor the module at evaluation time. The conversion runs both
   networks on a random video and refuses to write weights whose logits differ from the module's.

The Keras architecture is DeepMind's `kinetics-i3d/i3d.py`, channels-last:
    Unit3D = Conv3D (SAME, no bias) -> BatchNorm (offset only: Sonnet's default has no scale,
             epsilon 1e-3) -> ReLU
    Conv3d_1a_7x7 (64, stride 2) -> MaxPool3d_2a_3x3 (1x3x3, stride 1x2x2) -> Conv3d_2b_1x1 (64)
    -> Conv3d_2c_3x3 (192) -> MaxPool3d_3a_3x3 (1x3x3, stride 1x2x2) -> Mixed_3b, Mixed_3c
    -> MaxPool3d_4a_3x3 (3x3x3, stride 2) -> Mixed_4b..4f -> MaxPool3d_5a_2x2 (2x2x2, stride 2)
    -> Mixed_5b, Mixed_5c -> Logits: AvgPool (2x7x7, VALID) -> Conv3d_0c_1x1 (400, bias, no BN)
    -> mean over time.
Each Mixed block concatenates four branches: 1x1; 1x1 -> 3x3x3; 1x1 -> 3x3x3; 3x3x3 max pool
(stride 1) -> 1x1. All pools are SAME but the final average pool, which is VALID: after the
temporal strides (x8) it needs at least 2 steps, so a video must have at least 9 frames
(`MIN_FRAMES`), and 224x224 frames leave it exactly the 7x7 it pools (spatial sides >= 193 work).

Variables of the TF-Hub module are named `RGB/inception_i3d/<unit path>/conv_3d/w` (and `.../b`
for the logits), `.../batch_norm/{beta,moving_mean,moving_variance}`; `convert_weights` maps
them by those unit paths (`unit_paths()`), keeping DeepMind's typo `Mixed_5b/Branch_2/Conv3d_0a_3x3`.
Kernels have the same layout in Sonnet and Keras: (t, h, w, in, out).
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # the converter: its flags are read before TensorFlow's import
    from rjkeras.eval import i3d_convert

    i3d_convert.run()  # exits

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from rjkeras.errors import UserError  # noqa: E402
from rjkeras.eval.i3d_convert import check_paths, is_saved_model  # noqa: E402

NUM_CLASSES = 400
INPUT_SIZE = 224  # FVD resizes every frame to 224x224
MIN_FRAMES = 9  # the final VALID 2x7x7 average pool needs 2 steps after the 8x temporal stride
BN_EPSILON = 1e-3  # Sonnet 1's BatchNorm default

# The reference's tensors inside the TF-Hub module (FVD's `create_id3_embedding`).
HUB_INPUT = "input_frames:0"
HUB_OUTPUT = "RGB/inception_i3d/Mean:0"

# Mixed blocks: (name, (branch_0, branch_1a, branch_1b, branch_2a, branch_2b, branch_3)) widths.
MIXED = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}
LOGITS = "Logits/Conv3d_0c_1x1"


def _branch_paths(block: str) -> tuple[str, ...]:
    """The unit paths of one Mixed block, in DeepMind's names."""
    # DeepMind's code names Mixed_5b's second branch-2 unit Conv3d_0a_3x3 (every other block:
    # Conv3d_0b_3x3); the released weights carry that name, so we keep it.
    second = "Conv3d_0a_3x3" if block == "Mixed_5b" else "Conv3d_0b_3x3"
    return (f"{block}/Branch_0/Conv3d_0a_1x1", f"{block}/Branch_1/Conv3d_0a_1x1",
            f"{block}/Branch_1/Conv3d_0b_3x3", f"{block}/Branch_2/Conv3d_0a_1x1",
            f"{block}/Branch_2/{second}", f"{block}/Branch_3/Conv3d_0b_1x1")


def unit_paths() -> list[str]:
    """Every Unit3D of the network by its TF scope path (below `RGB/inception_i3d/`), in order.

    All but the last (`LOGITS`: conv with a bias, no BN) are conv + BN + ReLU units.
    """
    paths = ["Conv3d_1a_7x7", "Conv3d_2b_1x1", "Conv3d_2c_3x3"]
    for block in MIXED:
        paths += _branch_paths(block)
    return paths + [LOGITS]


def layer_name(path: str) -> str:
    """Keras layer name of a unit path ('/' is not allowed in Keras names)."""
    return path.replace("/", "__")


# ---------------------------------------------------------------------------------------------
# The Keras architecture


def _unit(x, filters: int, kernel, path: str, strides=1):
    """Unit3D: Conv3D (SAME, no bias) -> BN (offset only) -> ReLU."""
    x = layers.Conv3D(filters, kernel, strides=strides, padding="same", use_bias=False,
                      name=layer_name(path) + "__conv_3d")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, scale=False,
                                  name=layer_name(path) + "__batch_norm")(x)
    return layers.ReLU(name=layer_name(path) + "__relu")(x)


def _mixed(x, block: str):
    widths = MIXED[block]
    paths = _branch_paths(block)
    branch_0 = _unit(x, widths[0], 1, paths[0])
    branch_1 = _unit(_unit(x, widths[1], 1, paths[1]), widths[2], 3, paths[2])
    branch_2 = _unit(_unit(x, widths[3], 1, paths[3]), widths[4], 3, paths[4])
    pooled = layers.MaxPooling3D(3, strides=1, padding="same",
                                 name=layer_name(f"{block}/Branch_3/MaxPool3d_0a_3x3"))(x)
    branch_3 = _unit(pooled, widths[5], 1, paths[5])
    return layers.Concatenate(axis=-1, name=block)([branch_0, branch_1, branch_2, branch_3])


class MinFrames(layers.Layer):
    """Refuses videos shorter than MIN_FRAMES, which the final VALID pool cannot take.

    What a short video does without it depends on the CPU's kernels (an error on one host, NaN
    logits on another), so the network checks its own precondition: a ValueError where the length
    is known when the graph is built, an InvalidArgumentError with the same message otherwise.
    """

    def call(self, videos):
        message = f"I3D needs videos of at least {MIN_FRAMES} frames (B, T >= {MIN_FRAMES}, H, W, 3)"
        frames = videos.shape[1]
        if frames is not None:
            if frames < MIN_FRAMES:
                raise ValueError(f"{message}, got {frames} frames")
            return videos
        check = tf.debugging.assert_greater_equal(tf.shape(videos)[1], MIN_FRAMES, message=message)
        with tf.control_dependencies([check]):
            return tf.identity(videos)


def i3d(num_classes: int = NUM_CLASSES, name: str = "inception_i3d") -> keras.Model:
    """The I3D RGB network: videos (B, T, H, W, 3) in [-1, 1] -> logits (B, num_classes).

    T >= 9 and H, W >= 193 (224 in FVD). Per-stage shapes for (B, 16, 224, 224, 3):
        Conv3d_1a_7x7 (8, 112, 112, 64) -> MaxPool3d_2a (8, 56, 56, 64) -> Conv3d_2c (8, 56, 56, 192)
        -> MaxPool3d_3a (8, 28, 28, 192) -> Mixed_3c (8, 28, 28, 480) -> MaxPool3d_4a (4, 14, 14, 480)
        -> Mixed_4f (4, 14, 14, 832) -> MaxPool3d_5a (2, 7, 7, 832) -> Mixed_5c (2, 7, 7, 1024)
        -> AvgPool (1, 1, 1, 1024) -> Conv3d_0c_1x1 (1, 1, 1, 400) -> mean over time (400,)
    Logits are averaged over the remaining time steps (DeepMind's `averaged_logits`, the tensor
    FVD takes); the dropout before them is the identity at inference and is left out. Where larger
    frames leave more than one spatial position the logits are averaged over those too (DeepMind's
    spatial squeeze would fail there).
    """
    x = inputs = keras.Input((None, None, None, 3), name="videos")
    x = MinFrames(name="min_frames")(x)
    x = _unit(x, 64, 7, "Conv3d_1a_7x7", strides=2)
    x = layers.MaxPooling3D((1, 3, 3), strides=(1, 2, 2), padding="same", name="MaxPool3d_2a_3x3")(x)
    x = _unit(x, 64, 1, "Conv3d_2b_1x1")
    x = _unit(x, 192, 3, "Conv3d_2c_3x3")
    x = layers.MaxPooling3D((1, 3, 3), strides=(1, 2, 2), padding="same", name="MaxPool3d_3a_3x3")(x)
    x = _mixed(x, "Mixed_3b")
    x = _mixed(x, "Mixed_3c")
    x = layers.MaxPooling3D(3, strides=2, padding="same", name="MaxPool3d_4a_3x3")(x)
    for block in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
        x = _mixed(x, block)
    x = layers.MaxPooling3D(2, strides=2, padding="same", name="MaxPool3d_5a_2x2")(x)
    x = _mixed(x, "Mixed_5b")
    x = _mixed(x, "Mixed_5c")
    x = layers.AveragePooling3D((2, 7, 7), strides=1, padding="valid", name="Logits__AvgPool3D")(x)
    x = layers.Conv3D(num_classes, 1, use_bias=True, name=layer_name(LOGITS) + "__conv_3d")(x)
    x = layers.GlobalAveragePooling3D(name="averaged_logits")(x)  # (B, num_classes)
    return keras.Model(inputs, x, name=name)


# ---------------------------------------------------------------------------------------------
# Weight conversion from the TF-Hub module


def _find(variables: dict[str, np.ndarray], suffix: str) -> np.ndarray:
    """The one variable whose name ends with `/suffix` (or is `suffix`)."""
    matches = [name for name in variables if name == suffix or name.endswith("/" + suffix)]
    if not matches:
        raise UserError(f"the I3D SavedModel has no variable named like '.../{suffix}'; is it the "
                        "TF-Hub i3d-kinetics-400 module?")
    if len(matches) > 1:
        raise UserError(f"the I3D SavedModel has several variables named like '.../{suffix}': "
                        f"{', '.join(sorted(matches))}")
    return variables[matches[0]]


def convert_weights(variables: dict[str, np.ndarray], model: keras.Model | None = None) -> keras.Model:
    """Sets the Keras I3D's weights from the TF-Hub module's variables, mapped by name.

    Args:
      variables: variable name (with or without ':0', any prefix such as 'RGB/inception_i3d/')
        -> value, e.g. `{v.name: v.numpy() for v in tf.saved_model.load(dir, tags=[]).variables}`.
      model: an `i3d()` to fill (default: a new one).

    Returns the model. Raises UserError naming a missing, ambiguous or misshapen variable.
    """
    variables = {name.split(":")[0]: np.asarray(value) for name, value in variables.items()}
    model = model or i3d()
    for path in unit_paths():
        conv = model.get_layer(layer_name(path) + "__conv_3d")
        values = [_find(variables, f"{path}/conv_3d/w")]
        if path == LOGITS:
            values.append(_find(variables, f"{path}/conv_3d/b"))
            _assign(conv, values, path)
            continue
        _assign(conv, values, path)
        bn = model.get_layer(layer_name(path) + "__batch_norm")
        # Keras BN(scale=False) holds [beta, moving_mean, moving_variance].
        _assign(bn, [_find(variables, f"{path}/batch_norm/{name}")
                     for name in ("beta", "moving_mean", "moving_variance")], path)
    return model


def _assign(layer, values, path: str) -> None:
    expected = [tuple(w.shape) for w in layer.weights]
    # Sonnet keeps BN statistics as (1, 1, 1, 1, C); Keras as (C,).
    values = [np.reshape(v, shape) if v.size == int(np.prod(shape)) else v
              for v, shape in zip(values, expected)]
    got = [tuple(v.shape) for v in values]
    if got != expected:
        raise UserError(f"I3D variable {path}: shapes {got} do not fit the architecture's {expected}")
    for weight, value in zip(layer.weights, values):
        weight.assign(value)


# ---------------------------------------------------------------------------------------------
# Loading


def load_saved_model(path: str, flag: str = "--i3d"):
    """Loads a SavedModel folder; TF1 Hub modules (with `tfhub_module.pb`) with tags=[], as
    `tensorflow_hub.load` does (they hold one graph per tag set: the inference one has none).
    `flag` names the path's flag in the error of a folder that cannot be loaded."""
    tags = [] if os.path.exists(os.path.join(path, "tfhub_module.pb")) else None
    try:
        return tf.saved_model.load(path, tags=tags)
    except Exception as e:  # noqa: BLE001 (TF raises many types for a bad folder)
        raise UserError(f"{flag}={path}: cannot load the SavedModel ({type(e).__name__}: "
                        f"{str(e).splitlines()[0] if str(e) else ''})") from None


def _saved_model_function(loaded, path: str):
    """A function videos (B, T, 224, 224, 3) float32 in [-1, 1] -> logits (B, 400) of a loaded
    SavedModel, tried in this order:
      1. a TF1 graph holding FVD's tensors (the TF-Hub module): pruned from `input_frames:0` to
         `RGB/inception_i3d/Mean:0`, exactly the reference's tensor;
      2. its "default" signature, or its only one, with one input and one (or "default") output;
      3. the object itself when callable (a TF2 SavedModel of a tf.Module / Keras model).
    """
    graph = getattr(loaded, "graph", None)
    if graph is not None and hasattr(loaded, "prune"):
        names = {op.name for op in graph.get_operations()}
        if HUB_INPUT.split(":")[0] in names and HUB_OUTPUT.split(":")[0] in names:
            return loaded.prune(graph.get_tensor_by_name(HUB_INPUT),
                                graph.get_tensor_by_name(HUB_OUTPUT)), "tf-hub graph " + HUB_OUTPUT
    signatures = dict(getattr(loaded, "signatures", {}) or {})
    if signatures:
        key = "default" if "default" in signatures else (
            "serving_default" if "serving_default" in signatures else None)
        if key is None and len(signatures) == 1:
            key = next(iter(signatures))
        if key is not None:
            function = signatures[key]
            inputs = function.structured_input_signature[1]
            outputs = function.structured_outputs
            if len(inputs) == 1:
                input_name = next(iter(inputs))
                if len(outputs) == 1 or "default" in outputs:
                    output_name = "default" if "default" in outputs else next(iter(outputs))

                    def call(videos):
                        return function(**{input_name: videos})[output_name]

                    return call, f"signature {key!r} ({input_name} -> {output_name})"
        raise UserError(f"--i3d={path}: no usable signature (found {', '.join(sorted(signatures))}); "
                        "expected one video input and one logits output")
    if callable(loaded):
        return loaded, "the SavedModel's __call__"
    raise UserError(f"--i3d={path}: the SavedModel has neither FVD's tensors, a signature nor __call__")


class I3D:
    """Video logits for FVD: `I3D(...)(videos)` with videos float32 (B, T, 224, 224, 3) in
    [-1, 1] and T >= 9 -> float32 (B, 400) numpy array.

    Attributes:
      source: the path it came from.
      kind: "saved_model" or "keras".
      detail: how the SavedModel is called, or the weights file.
      model: the Keras network (kind "keras"), else None.
    """

    def __init__(self, function, source: str, kind: str, detail: str, model=None):
        self._function = function
        self.model = model
        self.source = source
        self.kind = kind
        self.detail = detail

    def __call__(self, videos) -> np.ndarray:
        videos = tf.convert_to_tensor(videos, tf.float32)
        if videos.shape.rank != 5 or videos.shape[1] is not None and videos.shape[1] < MIN_FRAMES:
            raise ValueError(f"I3D needs videos (B, T >= {MIN_FRAMES}, H, W, 3), got {videos.shape}")
        try:
            logits = np.asarray(self._function(videos), np.float32)
        except (TypeError, ValueError, tf.errors.InvalidArgumentError) as e:  # not I3D's input
            reason = str(e).splitlines()[0] if str(e) else ""
            raise UserError(f"--i3d={self.source}: cannot run on videos float32 (B, T, {INPUT_SIZE}, "
                            f"{INPUT_SIZE}, 3) ({type(e).__name__}: {reason}); is it the TF-Hub "
                            "i3d-kinetics-400 module?") from None
        if logits.ndim != 2 or logits.shape[0] != videos.shape[0]:
            raise UserError(f"--i3d={self.source}: returned logits of shape {logits.shape} for "
                            f"{videos.shape[0]} videos; expected ({videos.shape[0]}, {NUM_CLASSES})")
        return logits


def load_i3d(path: str | None) -> I3D:
    """The I3D of FVD from a user-given path: a SavedModel folder (the TF-Hub
    `i3d-kinetics-400` module, or any SavedModel with the same input and output), or a Keras
    weights file written by `convert` (`*.weights.h5`)."""
    if not path:
        raise UserError("FVD needs the I3D network: pass --i3d=<folder of the TF-Hub "
                        "i3d-kinetics-400 module, or a converted .weights.h5> (see the README)")
    path = os.path.expanduser(path)
    if not os.path.exists(path):
        raise UserError(f"--i3d={path} does not exist")
    if is_saved_model(path):
        function, detail = _saved_model_function(load_saved_model(path), path)
        return I3D(function, path, "saved_model", detail)
    if path.endswith(".h5"):
        model = i3d()
        try:
            model.load_weights(path)
        except Exception as e:  # noqa: BLE001
            raise UserError(f"--i3d={path}: not weights of rjkeras' I3D ({type(e).__name__}: {e})") from None
        function = tf.function(lambda videos: model(videos, training=False), reduce_retracing=True,
                               autograph=False)
        return I3D(function, path, "keras", "converted weights", model)
    raise UserError(f"--i3d={path}: expected a SavedModel folder (with saved_model.pb) or a "
                    ".weights.h5 file converted by `python -m rjkeras.eval.i3d`")


def saved_model_variables(path: str, loaded=None) -> dict[str, np.ndarray]:
    """{name: value} of every variable of a SavedModel folder (or of its loaded object)."""
    loaded = loaded if loaded is not None else load_saved_model(path)
    variables = getattr(loaded, "variables", None)
    if not variables:
        raise UserError(f"{path}: the SavedModel has no variables to convert")
    return {v.name: v.numpy() for v in variables}


def convert(saved_model: str, output: str, check: bool = True) -> tuple[str, float | None]:
    """Converts the TF-Hub module at `saved_model` into Keras weights at `output` (a name ending
    in .weights.h5).

    With `check`, both networks then run on one random 16-frame video and must agree (to 1e-3 of
    the logits' scale): that catches anything the module's graph does beyond the architecture
    above (an input rescaling, say) before an FVD is computed with the converted weights.

    Returns (output, the largest logit difference of the check or None).
    """
    check_paths(saved_model, output)
    loaded = load_saved_model(saved_model, "--saved_model")
    model = convert_weights(saved_model_variables(saved_model, loaded))
    difference = None
    if check:
        module, _ = _saved_model_function(loaded, saved_model)
        videos = tf.random.stateless_uniform([1, 16, INPUT_SIZE, INPUT_SIZE, 3], [0, 1], -1.0, 1.0)
        theirs = np.asarray(module(videos), np.float64)
        mine = np.asarray(model(videos, training=False), np.float64)
        difference = float(np.max(np.abs(theirs - mine)))
        if theirs.shape != mine.shape or difference > 1e-3 * max(1.0, float(np.max(np.abs(theirs)))):
            raise UserError(f"the converted I3D disagrees with {saved_model} on a random video (largest "
                            f"logit difference {difference:.3g}); nothing written. Use the folder "
                            "itself as --i3d")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    model.save_weights(output)
    return output, difference
