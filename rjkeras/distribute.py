"""Distribution strategies of the trainer: one device, all local devices, or several machines.

    --strategy=mirrored       tf.distribute.MirroredStrategy over every local GPU (or the CPU)
    --strategy=one_device     tf.distribute.OneDeviceStrategy on the first GPU (or the CPU)
    --strategy=multi_worker   tf.distribute.MultiWorkerMirroredStrategy; the cluster comes from
                              the TF_CONFIG environment variable of each worker

In a multi-worker run every worker runs the same command; the chief (task "chief", or worker 0
when the cluster has no chief) alone writes the work dir: config, checkpoints, TensorBoard
summaries and exports. At start the chief restores the latest checkpoint and its variables are
broadcast to the other workers, so the work dir only has to exist on the chief's machine.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from rjkeras.errors import UserError

STRATEGIES = ("mirrored", "one_device", "multi_worker")

_TF_CONFIG_EXAMPLE = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                      '"task": {"type": "worker", "index": 0}}\'')


def cluster_from_environment() -> dict:
    """TF_CONFIG, checked: one clear line for a missing, unparsable or inconsistent value."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise UserError("--strategy=multi_worker needs the TF_CONFIG environment variable on every "
                        f"worker, e.g. {_TF_CONFIG_EXAMPLE} (index 1 on the second machine)")
    try:
        tf_config = json.loads(raw)
    except json.JSONDecodeError as e:
        raise UserError(f"TF_CONFIG is not valid JSON ({e.msg} at character {e.pos}): "
                        f"expected e.g. {_TF_CONFIG_EXAMPLE}") from None
    cluster = tf_config.get("cluster") if isinstance(tf_config, dict) else None
    task = tf_config.get("task") if isinstance(tf_config, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise UserError(f"TF_CONFIG needs a \"cluster\" and a \"task\" object, e.g. {_TF_CONFIG_EXAMPLE}")
    jobs = {job: tasks for job, tasks in cluster.items() if job in ("chief", "worker")}
    if not jobs or not all(isinstance(tasks, list) and tasks for tasks in jobs.values()):
        raise UserError("TF_CONFIG's cluster must list the workers' host:port addresses under "
                        f"\"worker\" (and optionally one \"chief\"), e.g. {_TF_CONFIG_EXAMPLE}")
    kind, index = task.get("type"), task.get("index", 0)
    if kind not in jobs or not isinstance(index, int) or not 0 <= index < len(jobs[kind]):
        raise UserError(f"TF_CONFIG's task {task} is not in its cluster {cluster}: set "
                        "\"type\" to worker (or chief) and \"index\" to this machine's position")
    return tf_config


def make_strategy(name: str = "mirrored") -> tf.distribute.Strategy:
    """The tf.distribute strategy called `name` (one of STRATEGIES)."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "multi_worker":
        cluster_from_environment()
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise UserError(f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)}")


def num_workers(strategy: tf.distribute.Strategy) -> int:
    """How many machines (processes) take part in `strategy`'s training steps."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return 1
    spec = resolver.cluster_spec()
    return max(1, sum(len(spec.job_tasks(job)) for job in ("chief", "worker") if job in spec.jobs))


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the work dir (always, except for non-chief workers)."""
    return strategy.extended.should_checkpoint


def worker_name(strategy: tf.distribute.Strategy) -> str:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or num_workers(strategy) == 1:
        return "the only worker"
    return f"{resolver.task_type} {resolver.task_id}"


def broadcast_from_chief(strategy: tf.distribute.Strategy, variables) -> None:
    """Gives every worker the chief's values of `variables` (after the chief restored them).

    An all-reduce where only the chief's first replica contributes its value: a broadcast made
    of the collective every strategy has. Values travel as float64 (one packed all-reduce needs
    one dtype): exact for float32 weights and for step counters below 2^53.
    """
    if num_workers(strategy) == 1:
        return
    chief = 0  # replica 0 of the cluster lives on the chief (worker 0 when there is no chief)
    variables = list(variables)

    @tf.function(autograph=False)
    def replica_values():
        context = tf.distribute.get_replica_context()
        source = tf.equal(context.replica_id_in_sync_group, chief)
        values = [tf.cast(tf.convert_to_tensor(v), tf.float64) for v in variables]
        return context.all_reduce(
            tf.distribute.ReduceOp.SUM, [tf.where(source, x, tf.zeros_like(x)) for x in values])

    results = strategy.experimental_local_results(strategy.run(replica_values))[0]
    for variable, value in zip(variables, results):
        variable.assign(tf.cast(value, tf.as_dtype(variable.dtype)))  # Keras names dtypes with strings

