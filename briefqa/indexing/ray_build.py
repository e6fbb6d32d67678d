"""Building an index on Ray: ``briefqa index build --ray`` (docs/scale.md).

A ``RayRunner`` is a ``BuildRunner``: the build itself (what to embed, the checkpoint it resumes
from, the write lock, the index written whole or not at all, its manifest) is the one in
``briefqa.indexing.build``; Ray only reads the transcripts and embeds the texts.

* Reading and parsing: Ray tasks, each a run of files, on the node of the process that runs the
  build (the driver), whose disk has the files; what they parse comes back through Ray's object
  store and is checked against the other files (repeats, ids) here, in the files' order.
* Embedding: a pool of actors, each holding the model's ONNX export (model.onnx, tokenizer.json,
  encoder.json, put once in the object store) in ONNX Runtime: workers never import torch. The
  texts go out in batches sized so that each worker gets several (at most ``BATCH``, the
  checkpoint's commit), two in flight per worker; each batch that comes back is committed to
  the build's checkpoint before the next is taken.

Ray core (tasks and actors), not Ray Data: on this machine Ray Data's actor pool took 10-15 s
more to start than plain actors (its workers import pyarrow and pandas), its arguments for an
actor pool changed between Ray 2.9 and 2.60, and it logged from its C++ core on every run; the
batch inference pattern is the same. ``ray`` is imported only here, and only when a runner is
made: it is an optional extra (``pip install 'briefqa[ray]'``).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from briefqa.choices import Device
from briefqa.indexing.checkpoint import BATCH
from briefqa.indexing.embed import Embedder, Progress
from briefqa.reading.corpus import FileReading, read_file

RAY_INSTALL = "pip install 'briefqa[ray]'"
LOCAL_ADDRESS = "local"  # ray.init's name for a new Ray on this machine
MIN_BATCH = 32  # texts at least in a batch: each batch is a round trip to a worker
BATCHES_PER_WORKER = 4  # at least, so that a slow worker holds up the end of a build little
IN_FLIGHT = 2  # batches queued per worker: the next is there when one is done
FILES_PER_TASK = 16  # at most, in one reading task

log = logging.getLogger(__name__)


class RayBuildError(RuntimeError):
    """Ray cannot be reached, or its workers failed; the message says what to do."""


def batch_size(texts: int, workers: int) -> int:
    """Texts per batch sent to a worker: each of ``workers`` gets ``BATCHES_PER_WORKER`` or more,
    none more than ``BATCH`` (what a build commits at once) nor fewer than ``MIN_BATCH``."""
    return max(MIN_BATCH, min(BATCH, math.ceil(texts / (workers * BATCHES_PER_WORKER))))


def _versions() -> dict[str, Any]:
    """What a worker must have as the driver has it for the index to be the same."""
    from briefqa import __version__
    from briefqa.reading.formats import parser_versions

    return {"briefqa": __version__, "parsers": parser_versions()}


def _read_files(files: list[Path]) -> tuple[dict[str, Any], list[FileReading]]:
    """A reading task: ``read_file`` of each file, with the worker's versions."""
    return _versions(), [read_file(path) for path in files]


class _EncoderWorker:
    """An actor of the pool: the ONNX export (or, for an embedder with none, the embedder
    itself), loaded once, encoding batch after batch."""

    def __init__(self, encoder: tuple[str, Any], threads: int):
        kind, payload = encoder
        if kind == "onnx":
            from briefqa.indexing.onnx_encoder import OnnxEncoder

            directory = Path(tempfile.mkdtemp(prefix="briefqa-encoder-"))
            try:
                for name, data in payload.items():
                    (directory / name).write_bytes(data)
                self.encoder: Embedder = OnnxEncoder(directory, threads=threads)
            finally:
                shutil.rmtree(directory, ignore_errors=True)  # loaded: the session holds the model
        else:
            self.encoder = payload

    def ready(self) -> dict[str, Any]:
        return {**_versions(), "torch": "torch" in sys.modules}

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode(texts)


def _shipped(encoder: Embedder, export: Path | None) -> tuple[str, Any]:
    """What workers load: the files of the ONNX export, else the embedder itself (pickled)."""
    if export is not None:
        return "onnx", {p.name: p.read_bytes() for p in sorted(export.iterdir()) if p.is_file()}
    return "pickled", encoder


def _failed(err: BaseException, doing: str) -> RayBuildError:
    cause = getattr(err, "cause", None) or err
    lines = str(cause).strip().splitlines()
    return RayBuildError(
        f"a Ray worker failed while {doing} ({type(cause).__name__}: {lines[-1] if lines else 'no message'}); "
        f"every node needs briefqa installed as here ({RAY_INSTALL}), and a worker's logs are in "
        "/tmp/ray/session_latest/logs on its node"
    )


class RayRunner:
    """Reads and embeds on Ray, on this machine or a cluster (docs/scale.md).

    ``address``: a Ray cluster's address as ``ray.init`` takes it (``HOST:6379``, ``auto`` for one
    started on this machine with ``ray start``); default ``RAY_ADDRESS``, else a new
    Ray on this machine for this build, stopped when the runner is closed. A Ray already started
    in this process is used as it is. ``workers``: encoder actors (default: as many as the
    cluster's CPUs allow); ``threads``: CPUs (ONNX Runtime threads) of each.

    Use it in a ``with`` block, or ``close()`` it: the Ray it started is stopped then."""

    # A worker embeds with the ONNX export, never torch: a build on Ray exports the model even
    # when the old index's query encoder could be linked and only a few texts are new.
    export_min = 0
    # Workers embed on their CPUs (the export is loaded here on the CPU too, to check it loads).
    device: Device = "cpu"

    def __init__(self, address: str | None = None, workers: int | None = None, threads: int = 1):
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ImportError(f"building on Ray needs Ray, which is not installed here: {RAY_INSTALL}") from None
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers: expected a whole number of at least 1, not {workers!r}")
        if not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads: expected a whole number of at least 1, not {threads!r}")
        self.address = address or os.environ.get("RAY_ADDRESS") or LOCAL_ADDRESS
        self.workers = workers
        self.threads = threads
        self._started = False  # whether this runner started Ray (and so stops it)

    def __enter__(self) -> RayRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        """Start or join Ray, once (the first read or embed does it)."""
        import ray

        if ray.is_initialized():
            return
        self._reachable()
        # Ray's own messages would break into the build's progress bars; errors still come here.
        quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
        try:
            if self.address == LOCAL_ADDRESS:
                os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a Ray for one build reports nothing
                cpus = max(os.cpu_count() or 1, self.threads * (self.workers or 1))
                ray.init(address=LOCAL_ADDRESS, num_cpus=cpus, include_dashboard=False, **quiet)
            else:
                ray.init(address=self.address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as err:
            where = (
                "a new Ray on this machine" if self.address == LOCAL_ADDRESS else f"the Ray cluster at {self.address}"
            )
            raise RayBuildError(
                f"cannot start or reach {where} ({type(err).__name__}: {err}); check --ray-address or RAY_ADDRESS, "
                "and that the cluster is up (`ray status` on its head node)"
            ) from None
        self._started = True

    def _reachable(self, timeout: float = 5.0) -> None:
        """A cluster named by host and port answers on it: else ``ray.init`` retries for minutes."""
        address = self.address.removeprefix("ray://")
        host, _, port = address.rpartition(":")
        if self.address in (LOCAL_ADDRESS, "auto") or not host or not port.isdigit():
            return
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
        except OSError as err:
            raise RayBuildError(
                f"no Ray cluster answers at {self.address} ({err.strerror or err}); check --ray-address or "
                "RAY_ADDRESS, and that the cluster is up (`ray status` on its head node)"
            ) from None

    def close(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False

    def _here(self) -> dict[str, Any]:
        """Scheduling options that keep a task on the driver's node (where the files are)."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        try:
            node = ray.get_runtime_context().get_node_id()
        except Exception:  # a Ray Client driver is on no node: the tasks go where Ray puts them
            return {}
        return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=node, soft=False)}

    def read(self, files: list[Path]) -> Iterable[FileReading]:
        """Each file read and parsed by Ray tasks on this node, given back in the files' order."""
        import ray

        if not files:
            return
        self.connect()
        task = ray.remote(num_cpus=1)(_read_files).options(**self._here())
        cpus = max(1, int(ray.available_resources().get("CPU", 1)))
        per_task = max(1, min(FILES_PER_TASK, math.ceil(len(files) / (4 * cpus))))
        pending = [task.remote(files[i : i + per_task]) for i in range(0, len(files), per_task)]
        here = _versions()
        fetched = 0
        try:
            for ref in pending:
                versions, readings = ray.get(ref)
                fetched += 1
                if versions != here:
                    raise RayBuildError(
                        f"a Ray worker reads transcripts with other versions of briefqa ({versions}) than this "
                        f"process ({here}): install the same briefqa on every node ({RAY_INSTALL})"
                    )
                yield from readings
        except ray.exceptions.RayError as err:
            raise _failed(err, "reading transcripts") from None
        except (Exception, KeyboardInterrupt):
            # A build stopped while reading leaves no tasks behind. (Not when the reader only stops
            # asking, with every file read: Ray 2.60 aborts the process cancelling a task whose
            # result was taken.)
            for ref in pending[fetched:]:
                ray.cancel(ref)
            raise

    def embed(
        self, encoder: Embedder, export: Path | None, texts: list[str], progress: Progress | None
    ) -> Iterator[tuple[Sequence[int], np.ndarray]]:
        """The texts embedded by a pool of actors, each batch given back as soon as it is done."""
        import ray

        if not texts:
            return
        self.connect()
        size = batch_size(len(texts), self._workers())
        batches = [range(start, min(start + size, len(texts))) for start in range(0, len(texts), size)]
        pool = self._pool(encoder, export, min(self._workers(), len(batches)))
        pending: dict[Any, tuple[Any, range]] = {}  # result -> (its actor, its batch)
        queue = iter(batches)

        def send(worker: Any) -> None:
            if (batch := next(queue, None)) is not None:
                pending[worker.encode.remote([texts[i] for i in batch])] = (worker, batch)

        done = 0
        try:
            for worker in pool:
                for _ in range(IN_FLIGHT):
                    send(worker)
            while pending:
                [ref], _ = ray.wait(list(pending), num_returns=1)
                worker, batch = pending.pop(ref)
                vectors = np.array(ray.get(ref))  # a copy: the object store's is let go
                send(worker)
                yield batch, vectors
                done += len(batch)
                if progress:
                    progress(done, len(texts))
        except ray.exceptions.RayError as err:
            raise _failed(err, "embedding") from None
        finally:
            for worker in pool:
                ray.kill(worker)  # on a cluster that outlives the build, its actors do not

    def _workers(self) -> int:
        """Encoder actors: as asked, else as many as the cluster's CPUs allow."""
        import ray

        cpus = int(ray.cluster_resources().get("CPU", 1))
        workers = self.workers or max(1, cpus // self.threads)
        if workers * self.threads > cpus:
            log.warning(
                "%d Ray workers of %d CPU(s) each asked for, and the cluster has %d CPUs now: the rest wait for nodes",
                workers,
                self.threads,
                cpus,
            )
        return workers

    def _pool(self, encoder: Embedder, export: Path | None, workers: int) -> list[Any]:
        """``workers`` encoder actors, spread over the cluster's nodes, each loading what is shipped."""
        import ray

        shipped = ray.put(_shipped(encoder, export))
        actor = ray.remote(num_cpus=self.threads)(_EncoderWorker).options(scheduling_strategy="SPREAD")
        return [actor.remote(shipped, self.threads) for _ in range(workers)]

    def check_workers(self, encoder: Embedder, export: Path | None, workers: int = 1) -> list[dict[str, Any]]:
        """Start ``workers`` encoder actors as a build would and say what each has: briefqa's
        version, its parsers' versions, and whether torch was imported (it should not be)."""
        import ray

        self.connect()
        pool = self._pool(encoder, export, workers)
        try:
            return ray.get([worker.ready.remote() for worker in pool])
        except ray.exceptions.RayError as err:
            raise _failed(err, "starting") from None
        finally:
            for worker in pool:
                ray.kill(worker)
