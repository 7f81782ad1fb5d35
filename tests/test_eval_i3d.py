"""I3D for FVD: the Keras architecture's shapes, the weight conversion from the TF-Hub module's
variable names, and the loading paths, with stand-ins for the module (no weights can be fetched)."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from rjkeras.errors import UserError
from rjkeras.eval import fvd, i3d


@pytest.fixture(scope="module")
def keras_i3d():
    keras.utils.set_random_seed(0)
    return i3d.i3d()


def test_forward_shapes_with_random_weights(keras_i3d):
    # 224x224 is the only size FVD uses; one 16-frame video takes ~1 s on a 2-core CPU.
    videos = np.random.default_rng(0).uniform(-1, 1, (1, 16, 224, 224, 3)).astype(np.float32)
    logits = keras_i3d(videos, training=False)
    assert logits.shape == (1, i3d.NUM_CLASSES)
    assert np.all(np.isfinite(logits))
    # Stage shapes of DeepMind's network for a 16-frame 224x224 clip.
    probe = keras.Model(keras_i3d.input, [keras_i3d.get_layer(name).output for name in
                                          ("Conv3d_1a_7x7__relu", "MaxPool3d_3a_3x3", "Mixed_3c",
                                           "Mixed_4f", "Mixed_5c")])
    shapes = [tuple(o.shape[1:]) for o in probe(videos[:, :16])]
    assert shapes == [(8, 112, 112, 64), (8, 28, 28, 192), (8, 28, 28, 480), (4, 14, 14, 832),
                      (2, 7, 7, 1024)]
    # 57 conv + BN units and the logits conv, 12.7 M numbers in all.
    assert len(i3d.unit_paths()) == 58
    assert 12.6e6 < keras_i3d.count_params() < 12.8e6


def test_nine_frames_is_the_minimum(keras_i3d):
    videos = np.zeros((1, 9, 224, 224, 3), np.float32)
    assert keras_i3d(videos, training=False).shape == (1, 400)
    # 8 frames leave 1 step for a 2-step pool: the network refuses them itself, whatever the
    # CPU's pooling kernel would do (an error on one host, NaN logits on another).
    with pytest.raises(ValueError, match="at least 9 frames"):
        keras_i3d(np.zeros((1, 8, 224, 224, 3), np.float32), training=False)
    # Also where the length is unknown until the videos arrive (a traced, shape-relaxed call).
    call = tf.function(lambda v: keras_i3d(v, training=False),
                       input_signature=[tf.TensorSpec((None, None, 224, 224, 3), tf.float32)])
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least 9 frames"):
        call(np.zeros((1, 8, 224, 224, 3), np.float32))


def _hub_like_saved_model(path, variables=None, train_graph=True):
    """A TF1 SavedModel shaped like the TF-Hub module: a graph from `input_frames` to
    `RGB/inception_i3d/Mean`, variables under `RGB/inception_i3d/`, an inference graph with no
    tags (and a training one tagged "train", as Hub modules have), a tfhub_module.pb marker.

    Without `variables` its logits are mean-over-pixels @ W (W = linspace(-1, 1), (3, 400)),
    averaged over time; with them it holds those variables and returns zeros.
    """
    tf1 = tf.compat.v1
    weight_value = np.linspace(-1, 1, 1200, dtype=np.float32).reshape(1, 1, 1, 3, 400)
    variables = variables or {"Logits/Conv3d_0c_1x1/conv_3d/w": weight_value}
    builder = tf1.saved_model.Builder(path)
    for tags in ([], ["train"]) if train_graph else ([],):
        graph = tf.Graph()
        with graph.as_default():
            frames = tf1.placeholder(tf.float32, [None, None, 224, 224, 3], name="input_frames")
            with tf1.variable_scope("RGB/inception_i3d"):
                created = {name: tf1.get_variable(name, shape=value.shape, dtype=tf.float32,
                                                  initializer=tf1.zeros_initializer())
                           for name, value in variables.items()}
            with tf1.name_scope("RGB/inception_i3d/"):
                pooled = tf.reduce_mean(frames, axis=[2, 3], name="pool")  # (B, T, 3)
                weight = created["Logits/Conv3d_0c_1x1/conv_3d/w"]
                if weight.shape[3] == 3:
                    logits = tf.einsum("btc,ck->btk", pooled, tf.reshape(weight, [3, 400]))
                else:
                    logits = tf.zeros([tf.shape(frames)[0], tf.shape(frames)[1], 400])
                tf.reduce_mean(logits, axis=1, name="Mean")  # FVD's tensor: logits averaged over time
            with tf1.Session(graph=graph) as session:
                if not tags:
                    feeds = {name: tf1.placeholder(tf.float32, value.shape)
                             for name, value in variables.items()}
                    session.run([created[name].assign(feeds[name]) for name in variables],
                                {feeds[name]: value for name, value in variables.items()})
                    builder.add_meta_graph_and_variables(session, tags)
                else:
                    builder.add_meta_graph(tags)
    builder.save()
    open(os.path.join(path, "tfhub_module.pb"), "wb").close()
    return path


def test_hub_module_is_loaded_and_pruned_to_fvds_tensor(tmp_path):
    path = _hub_like_saved_model(str(tmp_path / "hub"))
    model = i3d.load_i3d(path)
    assert model.kind == "saved_model" and "RGB/inception_i3d/Mean:0" in model.detail
    videos = np.random.default_rng(1).uniform(-1, 1, (2, 9, 224, 224, 3)).astype(np.float32)
    logits = model(videos)
    weight = np.linspace(-1, 1, 1200, dtype=np.float32).reshape(3, 400)
    expected = videos.mean(axis=(2, 3)) @ weight  # (B, T, 400)
    np.testing.assert_allclose(logits, expected.mean(axis=1), rtol=1e-4, atol=1e-5)


class _StandIn(tf.Module):
    """A TF2 stand-in with the module's signature: videos (B, T, 224, 224, 3) -> logits (B, 400)."""

    def __init__(self):
        super().__init__()
        self.weight = tf.Variable(tf.random.stateless_normal([3, 400], seed=[1, 2]))

    @tf.function(input_signature=[tf.TensorSpec([None, None, 224, 224, 3], tf.float32, name="input_frames")])
    def logits(self, input_frames):
        return {"default": tf.reduce_mean(tf.reduce_mean(input_frames, axis=[2, 3]) @ self.weight, axis=1)}


def test_tf2_stand_in_is_called_through_its_signature(tmp_path):
    module = _StandIn()
    path = str(tmp_path / "tf2")
    tf.saved_model.save(module, path, signatures={"default": module.logits})
    model = i3d.load_i3d(path)
    videos = np.random.default_rng(2).uniform(-1, 1, (3, 16, 224, 224, 3)).astype(np.float32)
    np.testing.assert_allclose(model(videos), module.logits(tf.constant(videos))["default"].numpy(),
                               rtol=1e-5, atol=1e-6)
    assert model(fvd.preprocess(np.zeros((2, 8, 16, 16, 3), np.uint8))).shape == (2, 400)


def _hub_names(model):
    """The Keras I3D's weights under the TF-Hub module's names, Sonnet's shapes."""
    out = {}
    for path in i3d.unit_paths():
        conv = model.get_layer(i3d.layer_name(path) + "__conv_3d")
        out[f"{path}/conv_3d/w"] = conv.kernel.numpy()
        if path == i3d.LOGITS:
            out[f"{path}/conv_3d/b"] = conv.bias.numpy()
            continue
        bn = model.get_layer(i3d.layer_name(path) + "__batch_norm")
        for name, weight in zip(("beta", "moving_mean", "moving_variance"), bn.weights):
            out[f"{path}/batch_norm/{name}"] = weight.numpy().reshape(1, 1, 1, 1, -1)
    return out


def test_conversion_maps_every_variable_by_name(keras_i3d, tmp_path):
    # Random BN statistics, so that a mix-up of beta, mean and variance would show.
    rng = np.random.default_rng(3)
    for layer in keras_i3d.layers:
        if "batch_norm" in layer.name:
            for i, w in enumerate(layer.weights):  # beta, moving mean: any; moving variance: > 0
                w.assign(rng.normal(size=w.shape) if i < 2 else rng.uniform(0.5, 2, w.shape))
    variables = _hub_names(keras_i3d)
    assert "Mixed_5b/Branch_2/Conv3d_0a_3x3/conv_3d/w" in variables  # DeepMind's name, kept
    path = _hub_like_saved_model(str(tmp_path / "hub_full"), variables, train_graph=False)
    # The stand-in's graph returns zeros, so the check that both networks agree must refuse it.
    with pytest.raises(UserError, match="disagrees"):
        i3d.convert(path, str(tmp_path / "refused.weights.h5"))
    assert not os.path.exists(tmp_path / "refused.weights.h5")
    output, _ = i3d.convert(path, str(tmp_path / "i3d.weights.h5"), check=False)
    converted = i3d.load_i3d(output)
    assert converted.kind == "keras"
    for mine, theirs in zip(keras_i3d.weights, converted.model.weights):
        assert mine.path == theirs.path
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_conversion_names_a_missing_variable():
    with pytest.raises(UserError, match="Conv3d_1a_7x7/conv_3d/w"):
        i3d.convert_weights({"RGB/inception_i3d/other/w:0": np.zeros(1)})


def test_load_errors_are_one_line(tmp_path):
    with pytest.raises(UserError, match="--i3d"):
        i3d.load_i3d(None)
    with pytest.raises(UserError, match="does not exist"):
        i3d.load_i3d(str(tmp_path / "missing"))
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(UserError, match="SavedModel folder"):
        i3d.load_i3d(str(tmp_path / "file.txt"))
