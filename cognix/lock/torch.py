"""torch and CUDA as Cog does it, for images that have no CUDA base image.

Cog chooses a torch build for `build.cuda` from its compatibility matrix and installs it from the PyTorch index for
that CUDA (`<base>/cu118`), or from the CPU index (`<base>/cpu`) when `gpu` is false. A cognix image has no CUDA
base image: the CUDA runtime comes with the torch wheels (the +cuXYZ builds of the PyTorch index, or the nvidia-*
wheels that the package index's Linux torch depends on). So, when the model lists torch:

- `gpu: true` with `build.cuda`: a pinned torch takes the build of the newest CUDA of build.cuda's major that is not
  above it (Cog's rule; a build of another minor is accepted with a warning, another major is an error); an unpinned
  one takes the newest torch that has such a build. It comes from the PyTorch index page for that CUDA when the index
  is reachable. When it is not, torch comes from the package index: an unpinned torch becomes the newest there whose
  nvidia-* CUDA runtime has build.cuda's major, and a warning says so.
- `gpu: false`: the +cpu build from the CPU index when it is reachable; else the package index's torch, with a
  warning naming the size of the CUDA wheels it pulls in.
- `gpu: true` without build.cuda: the package index's torch, and CUDA is taken from it (as before).

Only torch, torchvision and torchaudio are taken from the PyTorch index, each through uv's find-links on its project
page: that index mirrors many other packages, and uv takes each package from the first index that has it.

The PyTorch index base is `torch_index=` (`cognix lock --torch-index URL`), else $COGNIX_TORCH_INDEX_URL, else
Cog's. Whether it answers is probed once per base and process (one HEAD request, a few seconds at most); a model
that does not list torch is never probed for.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from cognix.config.model import Build
from cognix.config.requirements import Requirements
from cognix.errors import LockError
from cognix.lock.index import IndexConfig, redact
from cognix.lock.model import Target, Wheel
from cognix.lock.python import RequirementSet, common_args, parse_edges, run_uv
from cognix.lock.torch_index import TORCH_INDEX_ENV, page_versions, project_page, reachable, torch_index_base
from cognix.lock.torch_table import RELEASES, best_build, cuda_of_tag, cuda_parts, fits_text, release_of, same_major
from cognix.progress import human_size

FAMILY = ("torch", "torchvision", "torchaudio")


# ---- the plan: rewritten requirement lines, find-links, warnings ---------------------------------------------------

@dataclass
class TorchPlan:
    """What the lock does about torch: the model's requirement lines (torch's possibly rewritten), the PyTorch index
    project pages given to uv as find-links, and the warnings for the user."""

    lines: list[str]
    gpu: bool = False
    cuda: str | None = None
    cudnn: str | None = None
    find_links: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    torch_index: str | None = None  # the PyTorch index used, "<base>/cu118"; None: the package index only
    unreachable: str | None = None  # the base that did not answer, when torch fell back to the package index
    cpu_note: str | None = None  # why a CPU model's torch comes from the package index
    announced: bool = False  # a warning already says which CUDA the chosen torch has

    def check(self, wheels: list[Wheel]) -> tuple[str | None, str | None]:
        """After resolution: (cuda, cudnn) for the Target; LockError when torch and build.cuda disagree in major."""
        from cognix.lock.gpu import gpu_versions

        by_name = {w.name: w for w in wheels}
        if not self.gpu:
            self._cpu_warning(by_name.get("torch"), [w for w in wheels if w.name.startswith("nvidia-")])
            return None, None
        context = ""
        if self.unreachable:
            context = f" (the PyTorch index {redact(self.unreachable)} is not reachable; torch is the package index's)"
        found: list[str] = []
        cuda, cudnn = gpu_versions(wheels, gpu=True, cuda=self.cuda, cudnn=self.cudnn, warnings=found,
                                   torch_index=self.unreachable is None, context=context)
        if not self.announced:
            self.warnings += found
        self._family_warning(by_name)
        return cuda, cudnn

    def _cpu_warning(self, torch: Wheel | None, nvidia: list[Wheel]) -> None:
        if torch is None or not nvidia:
            return
        size = human_size(sum(w.size for w in nvidia))
        wheels = f"{len(nvidia)} CUDA wheel{'s' if len(nvidia) != 1 else ''}"
        pulls = (f"torch {torch.version} from the package index pulls in {wheels} (nvidia-*, {size}) that a CPU "
                 "image does not use")
        if self.cpu_note:
            self.warnings.append(f"{self.cpu_note}: {pulls}")
        else:
            self.warnings.append(f"{pulls}; list torch in the model's requirements to take its CPU build from the "
                                 "PyTorch CPU index")

    def _family_warning(self, by_name: dict[str, Wheel]) -> None:
        torch = by_name.get("torch")
        local = Version(torch.version).local if torch is not None else None
        if not local:
            return
        for name in FAMILY[1:]:
            wheel = by_name.get(name)
            if wheel is not None and Version(wheel.version).local != local:
                self.warnings.append(f"{name} {wheel.version} is not the +{local} build that matches torch "
                                     f"{torch.version}; pin the {name} release that goes with it")


def _requirements(lines: list[str]) -> dict[str, tuple[int, Requirement]]:
    """torch, torchvision and torchaudio among the model's lines: name -> (line number, parsed requirement)."""
    out: dict[str, tuple[int, Requirement]] = {}
    for i, line in enumerate(lines):
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        name = canonicalize_name(req.name)
        if name in FAMILY and name not in out:
            out[name] = (i, req)
    return out


def pinned_version(req: Requirement) -> Version | None:
    """The version of an exact pin (`==2.1.0`, `==2.1.0+cu118`, `===...`), else None (ranges, wildcards, URLs)."""
    specs = list(req.specifier)
    if req.url or len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
        return None
    try:
        return Version(specs[0].version)
    except InvalidVersion:
        return None


def _with_version(req: Requirement, version: str) -> str:
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    marker = f" ; {req.marker}" if req.marker else ""
    return f"{req.name}{extras}=={version}{marker}"


def plan_torch(model: RequirementSet, reqs: Requirements, build: Build, target: Target, *, index: IndexConfig,
               torch_index: str | None = None) -> TorchPlan:
    """How to lock the model's torch (see the module docstring). `model` is the model's RequirementSet (lines and
    the index options among them), `reqs` its Requirements, `build` cog.yaml's build section. Network: none unless
    the model lists torch; then one probe of the PyTorch index and the project pages it reads."""
    plan = TorchPlan(lines=list(model.lines), gpu=bool(build.gpu), cuda=build.cuda, cudnn=build.cudnn)
    found = _requirements(plan.lines)
    if "torch" not in found or found["torch"][1].url:
        return plan
    if (reqs.index_url or model.index_url or reqs.extra_index_urls or model.extra_index_urls or reqs.find_links
            or model.find_links):
        return plan  # the model names its own indexes: torch comes from where it says
    pin = pinned_version(found["torch"][1])
    if pin is not None and pin.local:  # torch==2.1.0+cu118 or +cpu: that build, from the PyTorch index
        _plan_explicit(plan, found, torch_index_base(torch_index), pin, target)
        return plan
    if plan.gpu and not plan.cuda:
        return plan  # CUDA is taken from the package index's torch
    base = torch_index_base(torch_index)
    if plan.gpu:
        _plan_gpu(plan, found, base, target, index, reqs)
    else:
        _plan_cpu(plan, found, base, target)
    return plan


def _plan_explicit(plan: TorchPlan, found: dict[str, tuple[int, Requirement]], base: str, pin: Version,
                   target: Target) -> None:
    """The model pins a build of the PyTorch index itself (torch==2.1.0+cu118, torch==2.1.0+cpu): take it from there."""
    tag = pin.local or ""
    built = cuda_of_tag(tag)
    if plan.gpu and built is None:
        raise LockError(f"build.gpu is true but the model requires torch=={pin}, a build without CUDA",
                        fix=f"require torch=={pin.public} (cognix picks a CUDA build), or set build.gpu: false")
    if plan.gpu and plan.cuda and built and not same_major(built, plan.cuda):
        raise LockError(f"build.cuda is {plan.cuda} but the model requires torch=={pin}, built for CUDA {built}; "
                        f"{fits_text(plan.cuda)}",
                        fix=f"require torch=={pin.public} or one of those versions, or set build.cuda: \"{built}\"")
    if not reachable(base):
        raise LockError(f"the model requires torch=={pin}, a build of the PyTorch index, and the PyTorch index "
                        f"{redact(base)} is not reachable",
                        fix=f"pass --torch-index URL (or set ${TORCH_INDEX_ENV}) to a reachable mirror of it, or "
                            f"require torch=={pin.public} (cognix then takes the build that fits)")
    reason = _use_index(plan, found, base, tag, target)
    if reason:
        raise LockError(reason, fix=f"require torch=={pin.public}, or a version that index has")


def _plan_cpu(plan: TorchPlan, found: dict[str, tuple[int, Requirement]], base: str, target: Target) -> None:
    if not reachable(base):
        plan.unreachable = base
        plan.cpu_note = f"the PyTorch CPU index {redact(base)}/cpu is not reachable"
        return
    reason = _use_index(plan, found, base, "cpu", target, accept=_accepted(found))
    if reason:
        plan.cpu_note = reason


def _plan_gpu(plan: TorchPlan, found: dict[str, tuple[int, Requirement]], base: str, target: Target,
              index: IndexConfig, reqs: Requirements) -> None:
    cuda = plan.cuda or ""
    req = found["torch"][1]
    pin = pinned_version(req)
    if not reachable(base):
        plan.unreachable = base
        if pin is None:
            _newest_on_package_index(plan, found, base, target, index, reqs)
        return

    accept = _accepted(found)
    choice = best_build(cuda, accept)
    if choice is None:
        release = release_of(pin) if pin is not None else None
        if pin is not None and release is None:
            return  # a release cognix does not know: the package index's build, checked after resolution
        if release is not None:
            known = ", ".join(release.cuda + ((release.package_index_cuda,) if release.package_index_cuda else ()))
            raise LockError(f"build.cuda is {cuda} but torch {pin} has builds only for CUDA {known}; {fits_text(cuda)}",
                            fix=f"pin one of those torch versions, or set build.cuda to one of {known}")
        choice = best_build(cuda)  # the model's other pins rule out every known build: let the index page decide
        if choice is None:
            raise LockError(f"build.cuda is {cuda}, and {fits_text(cuda)}",
                            fix="set build.cuda to a CUDA version torch is built for (e.g. \"12.8\")")
    if choice.tag is None:  # the package index's build fits best (e.g. torch 2.0.x for CUDA 11.7, as Cog has it)
        if pin is None:
            i, _ = found["torch"]
            plan.lines[i] = _with_version(req, choice.torch)
        return
    if project_page(f"{base}/{choice.tag}/torch/") is None:  # it answered the probe, but not with this page
        plan.unreachable = base
        if pin is None:
            _newest_on_package_index(plan, found, base, target, index, reqs)
        return
    reason = _use_index(plan, found, base, choice.tag, target, accept=accept)
    if reason:
        raise LockError(reason, fix=f"pin a torch version that index has for this Python, or change build.cuda "
                                    f"({fits_text(cuda)})")


def _accepted(found: dict[str, tuple[int, Requirement]]) -> Callable[[str], bool]:
    """Which torch releases the model's own torch, torchvision and torchaudio requirements allow (table versions)."""
    torch_req = found["torch"][1]
    companions = []
    for name, column in (("torchvision", "torchvision"), ("torchaudio", "torchaudio")):
        if name in found:
            pin = pinned_version(found[name][1])
            if pin is not None:
                allowed = {r.torch for r in RELEASES if getattr(r, column) == str(Version(pin.public))}
                if allowed:
                    companions.append(allowed)

    def accept(version: str) -> bool:
        return torch_req.specifier.contains(version, prereleases=True) and all(version in c for c in companions)

    return accept


def _use_index(plan: TorchPlan, found: dict[str, tuple[int, Requirement]], base: str, tag: str, target: Target,
               accept: Callable[[str], bool] | None = None) -> str | None:
    """Take torch (and the model's torchvision/torchaudio) from <base>/<tag>; None, or why it could not."""
    page = f"{base}/{tag}/torch/"
    files = project_page(page)
    what = "CPU" if tag == "cpu" else f"CUDA {cuda_of_tag(tag)}"
    if files is None:
        return f"the PyTorch index page {redact(page)} could not be read"
    i, req = found["torch"]
    pin = pinned_version(req)
    versions = page_versions(files, "torch", target)
    if pin is not None:
        wanted = [v for v in versions if v.public == pin.public and (not pin.local or v.local == pin.local)]
    else:
        wanted = [v for v in versions if req.specifier.contains(v) and (accept is None or accept(v.public))]
    if not wanted:
        have = ", ".join(str(v) for v in versions[:8]) or "none"
        want = f"torch {pin}" if pin is not None else f"torch{req.specifier}"
        return (f"the PyTorch index has no {want} {what} build for CPython {target.python_version} "
                f"(linux {target.arch}) at {redact(page)}; it has: {have}")
    choice = wanted[0]
    plan.lines[i] = _with_version(req, str(choice))
    plan.find_links.append(page)
    plan.torch_index = f"{base}/{tag}"
    for name in FAMILY[1:]:
        if name not in found:
            continue
        companion = f"{base}/{tag}/{name}/"
        companion_files = project_page(companion)
        if companion_files is None:
            continue
        plan.find_links.append(companion)
        j, creq = found[name]
        cpin = pinned_version(creq)
        if cpin is not None and not cpin.local:
            local = [v for v in page_versions(companion_files, name, target)
                     if v.public == cpin.public and v.local == choice.local]
            if local:
                plan.lines[j] = _with_version(creq, str(local[0]))
    return None


def _runtime_constraints(major: int) -> list[str]:
    """uv constraints that leave only CUDA runtimes of one major: suffixed names of other majors are ruled out."""
    lines = [f"nvidia-cuda-runtime-cu{k}<0.dev0" for k in range(9, 30) if k != major]
    return lines + [f"nvidia-cuda-runtime>={major},<{major + 1}"]


def _newest_on_package_index(plan: TorchPlan, found: dict[str, tuple[int, Requirement]], base: str, target: Target,
                             index: IndexConfig, reqs: Requirements) -> None:
    """Unpinned torch, PyTorch index unreachable: the newest torch on the package index (with the model's other
    requirements) whose nvidia-* CUDA runtime has build.cuda's major; uv decides, under constraints."""
    cuda = plan.cuda or ""
    major = cuda_parts(cuda)[0]
    with tempfile.TemporaryDirectory(prefix="cognix-torch-") as tmp:
        cwd = Path(tmp)
        (cwd / "model.in").write_text("".join(f"{ln}\n" for ln in plan.lines), encoding="utf-8")
        (cwd / "cuda.txt").write_text("".join(f"{ln}\n" for ln in _runtime_constraints(major)), encoding="utf-8")
        args = common_args(target, index, [], list(reqs.options))
        try:
            text = run_uv([*args, "--annotation-style", "line", "-c", "cuda.txt", "model.in"], cwd)
        except LockError as err:
            detail = err.what.removeprefix("the Python requirements can't be resolved: ")
            raise LockError(
                f"build.cuda is {cuda}, the PyTorch index {redact(base)} is not reachable, and no torch on the package "
                f"index has a CUDA {major}.x runtime that fits the model's requirements for CPython "
                f"{target.python_version} ({detail[:300]}); {fits_text(cuda, torch_index=False)}",
                fix=f"pin one of those torch versions, pass --torch-index URL (or set ${TORCH_INDEX_ENV}) to a "
                    "reachable PyTorch index, or change build.cuda") from None
    pins = parse_edges(text)
    torch = pins.get("torch")
    if torch is None or torch.version is None:  # pragma: no cover - torch was a requirement
        return
    runtime = next((p.version for n, p in pins.items() if n.startswith("nvidia-cuda-runtime") and p.version), None)
    i, req = found["torch"]
    plan.lines[i] = _with_version(req, torch.version)
    built = ".".join(runtime.split(".")[:2]) if runtime else "unknown"
    plan.warnings.append(
        f"the PyTorch index {redact(base)} is not reachable: torch {torch.version} comes from the package index, the "
        f"newest there whose CUDA runtime (nvidia-* wheels, CUDA {built}) fits build.cuda {cuda}")
    plan.announced = True
