"""Draft speed: the same shot at the draft and the quality profile; goal on a GPU: the draft
at least 5x faster than the quality render.

On the tiny test models (any machine) it plans one shot with each profile, renders both
through the diffusers backend and prints the steps, size and wall time of each and their
ratio (the tiny models draft with fewer steps, no guidance and half the area; their times
are dominated by overheads, so the ratio there says little). When CUDA is present it does
the same with real-size architectures and random weights: each catalog model's transformer
built with `from_config` from its published config (no weights downloaded; the configs are
read from the Hugging Face cache when there, else the model is skipped), its denoising
loop timed at the draft's and the quality's size, steps and guidance.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.backends.diffusers import DiffusersBackend  # noqa: E402
from engine.models.catalog import Catalog, locate  # noqa: E402
from engine.render.planning import plan_render  # noqa: E402
from studio.jobs import Profile  # noqa: E402
from studio.project.io import load_project, save_project  # noqa: E402
from studio.project.model import Project  # noqa: E402
from tests.engine.backends.test_diffusers_backend import Ctx  # noqa: E402

GOAL = 5.0
TINY = ("tiny-wan", "tiny-ltx", "tiny-cogvideox", "tiny-hunyuan")
REAL = ("wan2.1-t2v-1.3b", "wan2.1-t2v-14b", "ltx-video", "cogvideox-2b", "hunyuanvideo")


def shot_project(folder: Path, model: str, size: tuple[int, int], seconds: float) -> Path:
    project = Project(title="Draft speed", width=size[0], height=size[1])
    project.shots.append(project.new_shot(id="s", prompt="a lighthouse in a storm", model_id=model))
    project.shots[0].duration = seconds
    save_project(project, folder)
    return folder


def timed_render(backend: DiffusersBackend, planned) -> float:
    backend.generate(planned.request, planned.inputs, Ctx())  # loads; not timed
    start = time.perf_counter()
    backend.generate(planned.request, planned.inputs, Ctx())
    return time.perf_counter() - start


def tiny(folder: Path) -> None:
    print("tiny models (CPU or GPU): the whole pipeline, loaded once")
    backend = DiffusersBackend()
    for model in TINY:
        project_folder = shot_project(folder / f"{model}.gallop", model, (64, 64), 0.5)
        project = load_project(project_folder)
        shot = project.shots[0]
        plans = {
            p: plan_render(project, project_folder, shot, profile=p)
            for p in (Profile.DRAFT, Profile.QUALITY)
        }
        times = {p: timed_render(backend, plan) for p, plan in plans.items()}
        backend.unload()
        d, q = plans[Profile.DRAFT].request, plans[Profile.QUALITY].request
        ratio = times[Profile.QUALITY] / times[Profile.DRAFT]
        print(
            f"  {model:15} draft {d.steps} steps {d.width}x{d.height} guidance {d.guidance:g}: "
            f"{times[Profile.DRAFT]:.3f} s | quality {q.steps} steps {q.width}x{q.height} "
            f"guidance {q.guidance:g}: {times[Profile.QUALITY]:.3f} s | x{ratio:.1f}"
        )


def real_size(folder: Path) -> None:
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device: real-size architectures skipped")
        return
    import diffusers

    print(f"real-size architectures, random weights, on {torch.cuda.get_device_name()}")
    catalog = Catalog()
    for model in REAL:
        entry = catalog.get(model)
        found = locate(entry)
        config = found.path / "transformer" if found.path else None
        if config is None or not (config / "config.json").exists():
            print(f"  {model:15} skipped: its transformer config is not in the cache")
            continue
        project_folder = shot_project(
            folder / f"{model}.gallop", model, (entry.width, entry.height), 2.0
        )
        project = load_project(project_folder)
        plans = {}
        for profile in (Profile.DRAFT, Profile.QUALITY):
            try:
                plans[profile] = plan_render(
                    project, project_folder, project.shots[0], profile=profile
                )
            except Exception as exc:  # noqa: BLE001 - a draft LoRA not downloaded
                print(f"  {model:15} {profile} not planned: {exc}")
        if len(plans) < 2:
            continue
        import json

        index = json.loads((found.path / "model_index.json").read_text())
        cls = getattr(diffusers, index["transformer"][1])
        transformer = cls.from_config(cls.load_config(config)).to("cuda", torch.bfloat16)
        times = {p: _denoise_time(transformer, entry, plan.request) for p, plan in plans.items()}
        del transformer
        torch.cuda.empty_cache()
        ratio = times[Profile.QUALITY] / times[Profile.DRAFT]
        print(
            f"  {model:15} draft {times[Profile.DRAFT]:.2f} s | quality "
            f"{times[Profile.QUALITY]:.2f} s | x{ratio:.1f} (goal >= {GOAL:g}): "
            + ("met" if ratio >= GOAL else "not met")
        )


def _denoise_time(transformer, entry, request) -> float:
    """The transformer's forward passes of one render: steps x (2 with guidance, else 1),
    on random latents of the request's size, timed on the GPU."""
    import torch

    config = transformer.config
    channels = getattr(config, "in_channels", 16)
    spatial, temporal = (32, 8) if entry.family == "ltx" else (8, 4)
    frames = (request.frames - 1) // temporal + 1
    height, width = request.height // spatial, request.width // spatial
    passes = (request.steps or entry.steps) * (2 if (request.guidance or 1.0) > 1.0 else 1)
    text = getattr(config, "text_dim", None) or getattr(config, "cross_attention_dim", 4096)
    latents = torch.randn(1, channels, frames, height, width, device="cuda", dtype=torch.bfloat16)
    states = torch.randn(1, 128, text, device="cuda", dtype=torch.bfloat16)
    timestep = torch.tensor([500], device="cuda")
    with torch.inference_mode():
        transformer(hidden_states=latents, encoder_hidden_states=states, timestep=timestep)
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(passes):
            transformer(hidden_states=latents, encoder_hidden_states=states, timestep=timestep)
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tiny(Path(tmp))
        try:
            real_size(Path(tmp))
        except Exception as exc:  # noqa: BLE001 - the tiny part has run; say what stopped
            print(f"real-size architectures stopped: {type(exc).__name__}: {exc}")
    print(f"goal: the draft >= {GOAL:g}x faster than the quality render on a GPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
