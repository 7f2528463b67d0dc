"""Quantized weights: int8 (torchao) renders a tiny model on the CPU with both its
transformer and text encoder quantized, loaded once through the engine; NF4 is refused on
a machine without CUDA; a GGUF transformer the catalog does not name, or that is not
downloaded, or a missing library, each say so and what to do."""

from __future__ import annotations

import sys

import pytest

from engine.backends.base import RenderError, RenderInputs
from engine.backends.diffusers import DiffusersBackend
from engine.backends.quantize import load_options, require
from engine.models.catalog import Catalog
from engine.render.worker import Engine
from studio.jobs import Finished, Quantization
from studio.project.takes import TakeStore
from tests.engine.backends.test_diffusers_backend import Ctx, request
from tests.engine.conftest import Recorder


def _imports(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


needs_torchao = pytest.mark.skipif(not _imports("torchao.quantization"), reason="no torchao")


def quantized(module) -> bool:
    import torch

    weights = [m.weight for m in module.modules() if isinstance(m, torch.nn.Linear)]
    return any(type(w).__module__.startswith("torchao") for w in weights)


@needs_torchao
@pytest.mark.parametrize("model", ["tiny-wan", "tiny-hunyuan"])
def test_int8_weights_render_on_the_cpu(model):
    backend = DiffusersBackend()
    ctx = Ctx()
    req = request(model, quantization=Quantization.INT8)
    frames = backend.generate(req, RenderInputs(), ctx)
    pipe = next(iter(backend._loaded.pipes.values()))
    assert quantized(pipe.transformer) and quantized(pipe.text_encoder)
    assert not quantized(pipe.vae)
    assert frames.shape == (9, req.height, req.width, 3)
    assert any("int8 quantized weights" in line for line in ctx.logs)
    backend.unload()


@needs_torchao
def test_the_engine_loads_a_quantized_model_once(tmp_path, monkeypatch):
    import engine.backends.diffusers as module

    loads = []

    def counted(entry, quantization, *args, **kwargs):
        loads.append(quantization)
        return load_options(entry, quantization, *args, **kwargs)

    monkeypatch.setattr(module, "load_options", counted)
    backend = DiffusersBackend()
    recorder = Recorder()
    engine = Engine(TakeStore(tmp_path / "takes"), recorder, lambda name: backend).start()
    try:
        job = engine.submit(request("tiny-wan", quantization=Quantization.INT8))
        done = recorder.wait_done(job, 300)
    finally:
        engine.shutdown(30)
    assert isinstance(done, Finished), getattr(done, "detail", done)
    # Loaded once, quantized: the worker hands the request's quantization to `load`.
    assert loads == [Quantization.INT8]


def test_nf4_is_refused_without_cuda():
    backend = DiffusersBackend()
    with pytest.raises(RenderError, match="NF4 quantization runs on NVIDIA GPUs only") as err:
        backend.generate(request("tiny-wan", quantization=Quantization.NF4), RenderInputs(), Ctx())
    assert "choose int8" in str(err.value)
    assert backend._loaded is None  # nothing was loaded half-way


@pytest.mark.skipif(not _imports("gguf"), reason="gguf cannot import")
def test_gguf_needs_a_catalog_file_that_is_here(tmp_path):
    import torch

    catalog = Catalog()
    with pytest.raises(RenderError, match="no GGUF transformer in the catalog"):
        load_options(catalog.get("tiny-wan"), Quantization.GGUF, tmp_path, "cpu", torch.float32)
    wan = catalog.get("wan2.1-t2v-14b")
    with pytest.raises(RenderError, match=r"not downloaded.*city96/Wan2.1-T2V-14B-gguf"):
        load_options(wan, Quantization.GGUF, tmp_path, "cpu", torch.float32)


def test_a_missing_library_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)  # import fails
    with pytest.raises(RenderError, match=r"needs the Python package bitsandbytes.*\[quant\]"):
        require(Quantization.NF4)
    require(Quantization.NONE)  # nothing to import
