"""Parity check: does the Rust harness's graph transformer compute what this reference computes?

    python reference/parity.py PARITY.npz [--json SUMMARY.json] [--tolerance 1e-5]
    python reference/parity.py --self-test

The Rust side writes an .npz holding the model configuration, one collated batch, its initial
weights under this reference's `state_dict()` keys (`param.<key>`), and what it computed: the
molecule embeddings with dropout off (`expected.embeddings`), the loss (`expected.loss`) and every
parameter after ONE optimiser step (`after.<key>`: forward with dropout 0, loss, backward,
clip_grad_norm_, AdamW). This script loads the same weights into model.GraphTransformer
(dropout 0), runs the same step and compares everything as max absolute differences.

Exit status: 0 every quantity within tolerance, 1 some quantity outside it, 2 malformed input
(a missing or misshapen array is named).

`--self-test` writes such an .npz from a seeded PyTorch model on 8 real ChEBI-20 molecules and
checks that it passes, that the same step computed in float64 passes too (the tolerance admits a
correct implementation with other rounding), that nudging one initial weight by 1e-3 makes it
fail, and that a missing array is reported as malformed input.

AdamW's first step maps a gradient g to a change of lr*g/(|g|+eps): where the true gradient is
0 (every key bias of the attention, the pooling score bias: softmax is shift-invariant), float
rounding noise of 1e-10 becomes a change of about 3e-6 whose sign is arbitrary. The report counts
such elements; `--adam-noise-floor G` stops counting elements whose gradient is at most G on both
sides (the other side's gradient is implied by its step).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from data import ATOM_SLOTS, BOND_SLOTS, DEFAULT_DATA_DIR, collate, load_split
from model import GraphTransformer, contrastive_loss

INT_SCALARS = ("hidden", "heads", "layers", "output_dim")
FLOAT_SCALARS = (
    "temperature",
    "learning_rate",
    "weight_decay",
    "beta1",
    "beta2",
    "eps",
    "clip",
)
BATCH_ARRAYS = ("x", "edge_index", "edge_attr", "batch", "num_graphs", "texts")
EXPECTED = ("expected.embeddings", "expected.loss")
WORST_SHOWN = 5


class MalformedInput(Exception):
    """The .npz lacks an array or holds one of the wrong shape or kind (exit status 2)."""


@dataclass
class Hyper:
    temperature: float
    learning_rate: float
    weight_decay: float
    beta1: float
    beta2: float
    eps: float
    clip: float


@dataclass
class StepResult:
    embeddings: torch.Tensor
    loss: float
    grad_norm: float
    grads: dict[str, torch.Tensor]
    after: dict[str, torch.Tensor]


def parity_model(config: dict) -> GraphTransformer:
    """The reference model at the sizes in `config`, without dropout (the two sides draw their
    dropout masks from different generators, so parity is checked without them)."""
    return GraphTransformer(
        hidden=config["hidden"],
        out_dim=config["output_dim"],
        layers=config["layers"],
        heads=config["heads"],
        dropout=0.0,
    )


def one_step(model: GraphTransformer, batch: dict, texts: torch.Tensor, hyper: Hyper) -> StepResult:
    """Forward (dropout must be 0), loss, backward, clip, one AdamW step; `model` is updated."""
    model.train()
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=hyper.learning_rate,
        betas=(hyper.beta1, hyper.beta2),
        eps=hyper.eps,
        weight_decay=hyper.weight_decay,
    )
    optimizer.zero_grad(set_to_none=True)
    embeddings = model(
        batch["x"], batch["edge_index"], batch["edge_attr"], batch["batch"], batch["num_graphs"]
    )
    loss = contrastive_loss(embeddings, texts, hyper.temperature)
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), hyper.clip)
    grads = {
        name: (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p))
        for name, p in model.named_parameters()
    }
    optimizer.step()
    return StepResult(
        embeddings=embeddings.detach().clone(),
        loss=float(loss.item()),
        grad_norm=float(grad_norm),
        grads=grads,
        after={k: v.detach().clone() for k, v in model.state_dict().items()},
    )


# ----------------------------------------------------------------------------- reading the npz


def _get(arrays, name: str) -> np.ndarray:
    if name not in arrays:
        raise MalformedInput(f"missing array '{name}'")
    return arrays[name]


def _scalar(arrays, name: str, kind: str):
    value = _get(arrays, name)
    if value.shape != () and value.shape != (1,):
        raise MalformedInput(f"'{name}' should be a 0-d array, has shape {list(value.shape)}")
    if kind == "int":
        if value.dtype.kind not in "iu":
            raise MalformedInput(f"'{name}' should be an integer, is {value.dtype}")
        return int(value.reshape(()))
    if value.dtype.kind not in "fiu":
        raise MalformedInput(f"'{name}' should be a number, is {value.dtype}")
    return float(value.reshape(()))


def _tensor(arrays, name: str, shape: tuple, kind: str) -> torch.Tensor:
    """`shape` entries of None match any size."""
    value = _get(arrays, name)
    if len(value.shape) != len(shape) or any(
        want is not None and got != want for got, want in zip(value.shape, shape)
    ):
        pretty = ["*" if s is None else s for s in shape]
        raise MalformedInput(f"'{name}' has shape {list(value.shape)}, expected {pretty}")
    if kind == "int":
        if value.dtype.kind not in "iu":
            raise MalformedInput(f"'{name}' should hold integers, holds {value.dtype}")
        return torch.from_numpy(np.ascontiguousarray(value, dtype=np.int64))
    if value.dtype.kind != "f":
        raise MalformedInput(f"'{name}' should hold floats, holds {value.dtype}")
    return torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))


def _check_range(name: str, values: torch.Tensor, upper: int) -> None:
    if values.numel() and (int(values.min()) < 0 or int(values.max()) >= upper):
        raise MalformedInput(
            f"'{name}' holds values in {int(values.min())}..{int(values.max())}, expected 0..{upper - 1}"
        )


def read_case(path: Path):
    if not zipfile.is_zipfile(path):
        raise MalformedInput(f"{path} is not an .npz (zip) archive")
    try:
        arrays = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise MalformedInput(f"cannot read {path} as .npz: {error}") from error
    with arrays:
        config = {name: _scalar(arrays, name, "int") for name in INT_SCALARS}
        hyper = Hyper(**{name: _scalar(arrays, name, "float") for name in FLOAT_SCALARS})
        num_graphs = _scalar(arrays, "num_graphs", "int")
        x = _tensor(arrays, "x", (None, len(ATOM_SLOTS)), "int")
        atoms = x.shape[0]
        edge_index = _tensor(arrays, "edge_index", (2, None), "int")
        edges = edge_index.shape[1]
        edge_attr = _tensor(arrays, "edge_attr", (edges, len(BOND_SLOTS)), "int")
        molecule = _tensor(arrays, "batch", (atoms,), "int")
        texts = _tensor(arrays, "texts", (num_graphs, config["output_dim"]), "float")
        for f, slots in enumerate(ATOM_SLOTS):
            _check_range(f"x[:, {f}]", x[:, f], slots)
        for f, slots in enumerate(BOND_SLOTS):
            _check_range(f"edge_attr[:, {f}]", edge_attr[:, f], slots)
        _check_range("edge_index", edge_index, atoms)
        _check_range("batch", molecule, num_graphs)
        if config["hidden"] % config["heads"]:
            raise MalformedInput(f"hidden {config['hidden']} is not a multiple of heads {config['heads']}")

        model = parity_model(config)
        state = model.state_dict()
        for prefix in ("param.", "after."):
            present = {k[len(prefix) :] for k in arrays.files if k.startswith(prefix)}
            missing = sorted(set(state) - present)
            unexpected = sorted(present - set(state))
            if missing:
                raise MalformedInput(
                    f"missing {len(missing)} array(s): " + ", ".join(prefix + k for k in missing)
                )
            if unexpected:
                raise MalformedInput(
                    f"{len(unexpected)} array(s) that the reference model does not have: "
                    + ", ".join(prefix + k for k in unexpected)
                )
        params = {k: _tensor(arrays, f"param.{k}", tuple(v.shape), "float") for k, v in state.items()}
        after = {k: _tensor(arrays, f"after.{k}", tuple(v.shape), "float") for k, v in state.items()}
        expected_embeddings = _tensor(
            arrays, "expected.embeddings", (num_graphs, config["output_dim"]), "float"
        )
        expected_loss = _scalar(arrays, "expected.loss", "float")
        other = sorted(
            k
            for k in arrays.files
            if not k.startswith(("param.", "after."))
            and k not in INT_SCALARS + FLOAT_SCALARS + BATCH_ARRAYS + EXPECTED
        )
    model.load_state_dict(params, strict=True)
    batch = {
        "x": x,
        "edge_index": edge_index,
        "edge_attr": edge_attr,
        "batch": molecule,
        "num_graphs": num_graphs,
    }
    return config, hyper, model, batch, texts, expected_embeddings, expected_loss, after, other


# ------------------------------------------------------------------------------- the comparison


def _noise_elements(
    p0: torch.Tensor, expected_after: torch.Tensor, grad: torch.Tensor, hyper: Hyper, floor: float
) -> torch.Tensor:
    """Elements whose gradient is below `floor` on BOTH sides.

    On AdamW's first step p1 = p0 * (1 - lr * wd) - lr * g / (|g| + eps), so a gradient that is
    mathematically zero (e.g. every key bias of a softmax attention, the pooling score bias) but
    numerically 1e-10 becomes a parameter change of lr * 1e-10 / (1e-10 + 1e-8), about 3e-6, whose
    size and sign are rounding noise. The reference's gradient is known; the other side's is
    implied by its step s = (p0 * (1 - lr * wd) - p1) / lr = g / (|g| + eps)."""
    p0 = p0.double()
    step = (p0 * (1 - hyper.learning_rate * hyper.weight_decay) - expected_after.double()) / hyper.learning_rate
    # float32 storage of p0 and p1 blurs the implied step by a few ulps of p over lr.
    ulp = torch.from_numpy(np.spacing(p0.abs().float().numpy())).double()
    slack = 4 * ulp / hyper.learning_rate
    return (grad.abs() <= floor) & (step.abs() <= floor / (floor + hyper.eps) + slack)


def check(
    path: Path,
    tolerance: float,
    json_path: Path | None = None,
    noise_floor: float | None = None,
    quiet: bool = False,
) -> int:
    """Compares one .npz case; returns the exit status (0 pass, 1 fail, 2 malformed input).
    With `noise_floor`, parameter elements whose gradient is below it on both sides (see
    _noise_elements) do not count against the tolerance; they are always counted and reported."""

    def say(line: str = "") -> None:
        if not quiet:
            print(line)

    try:
        config, hyper, model, batch, texts, exp_emb, exp_loss, exp_after, other = read_case(path)
    except MalformedInput as error:
        print(f"parity: malformed input {path}: {error}", file=sys.stderr)
        if json_path is not None:
            json_path.write_text(json.dumps({"status": "malformed", "error": str(error)}, indent=2) + "\n")
        return 2

    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    result = one_step(model, batch, texts, hyper)

    def ok(value: float) -> bool:
        return not math.isnan(value) and value <= tolerance

    emb_diff = float((result.embeddings - exp_emb).abs().max()) if exp_emb.numel() else 0.0
    loss_diff = abs(result.loss - exp_loss)
    diagnosis_floor = noise_floor if noise_floor is not None else 1e-8
    params = {}  # key -> per-parameter record
    for key, want in exp_after.items():
        diff = (result.after[key] - want).abs()
        diff = torch.where(torch.isnan(diff), torch.full_like(diff, math.inf), diff)
        grad = result.grads[key]
        noise = _noise_elements(before[key], want, grad, hyper, diagnosis_floor)
        outside = diff > tolerance
        counted = diff.masked_fill(noise, 0.0) if noise_floor is not None else diff
        record = {
            "max_abs_diff": float(diff.max()) if diff.numel() else 0.0,
            "counted_max_abs_diff": float(counted.max()) if diff.numel() else 0.0,
            "elements": diff.numel(),
            "outside_tolerance": int(outside.sum()),
            "outside_tolerance_gradient_noise": int((outside & noise).sum()),
        }
        if diff.numel():
            flat = int(counted.argmax())
            index = tuple(int(i) for i in np.unravel_index(flat, tuple(diff.shape)))
            record.update(
                index=list(index),
                reference=float(result.after[key][index]),
                expected=float(want[index]),
                reference_grad=float(grad[index]),
            )
        params[key] = record
    worst = sorted(params, key=lambda k: params[k]["counted_max_abs_diff"], reverse=True)
    max_param = params[worst[0]]["counted_max_abs_diff"] if worst else 0.0
    n_outside = sum(r["outside_tolerance"] for r in params.values())
    n_noise = sum(r["outside_tolerance_gradient_noise"] for r in params.values())

    failures = []
    if not ok(emb_diff):
        failures.append("embeddings")
    if not ok(loss_diff):
        failures.append("loss")
    failures += [k for k in worst if not ok(params[k]["counted_max_abs_diff"])]
    status = "pass" if not failures else "fail"

    atoms, edges = batch["x"].shape[0], batch["edge_index"].shape[1]
    say(
        f"parity {path.name}: {batch['num_graphs']} molecules, {atoms} atoms, {edges} directed edges; "
        f"hidden {config['hidden']}, heads {config['heads']}, layers {config['layers']}, "
        f"out {config['output_dim']}; tolerance {tolerance:g}"
    )
    say(f"  embeddings      max |diff| {emb_diff:.3e}  {'ok' if ok(emb_diff) else 'FAIL'}")
    say(
        f"  loss            |diff| {loss_diff:.3e} (reference {result.loss:.6f}, expected {exp_loss:.6f})  "
        f"{'ok' if ok(loss_diff) else 'FAIL'}"
    )
    exempt = "exempt" if noise_floor is not None else "counted"
    say(
        f"  after one step  max |diff| {max_param:.3e} over {len(params)} parameters; "
        f"{n_outside} elements outside tolerance, {n_noise} of them gradient noise "
        f"(|grad| <= {diagnosis_floor:g} on both sides; {exempt})  {'ok' if ok(max_param) else 'FAIL'}"
    )
    for key in worst[:WORST_SHOWN]:
        r = params[key]
        where = ""
        if "index" in r:
            where = (
                f" at {r['index']}: reference {r['reference']:.7g}, expected {r['expected']:.7g}, "
                f"reference grad {r['reference_grad']:.3g}"
            )
        say(f"    {r['counted_max_abs_diff']:.3e}  {key}{where}")
    if n_noise and noise_floor is None:
        say(
            "  note: AdamW's first step turns a gradient g into lr*g/(|g|+eps); where the true gradient "
            "is 0 or tiny, rounding noise decides the step. Export the case with AdamW eps >= 1e-6, or pass "
            "--adam-noise-floor 1e-8 to exempt such elements (reference/README.md, 'Parity')."
        )
    say(f"  reference gradient norm before clipping {result.grad_norm:.4f}")
    if other:
        say(f"  (ignored arrays: {', '.join(other)})")
    say(f"  {status.upper()}")

    if json_path is not None:
        summary = {
            "status": status,
            "tolerance": tolerance,
            "adam_noise_floor": noise_floor,
            "molecules": batch["num_graphs"],
            "atoms": atoms,
            "edges": edges,
            "config": config,
            "embeddings_max_abs_diff": emb_diff,
            "loss_abs_diff": loss_diff,
            "loss_reference": result.loss,
            "loss_expected": exp_loss,
            "grad_norm_before_clip": result.grad_norm,
            "after_step_max_abs_diff": max_param,
            "after_step_elements_outside_tolerance": n_outside,
            "after_step_elements_outside_tolerance_gradient_noise": n_noise,
            "worst_parameters": [{"key": k, **params[k]} for k in worst[:WORST_SHOWN]],
            "parameters": params,
            "failures": failures,
        }
        json_path.write_text(json.dumps(summary, indent=2, allow_nan=False, default=str) + "\n")
    return 0 if not failures else 1


# -------------------------------------------------------------------------------- self-test


def write_case(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def self_test_arrays(data_dir: Path, seed: int = 7) -> dict[str, np.ndarray]:
    """An .npz's worth of arrays computed by this reference on 8 real train molecules: the first
    7 rows plus the first molecule without bonds (single atom or ions)."""
    train = load_split(data_dir, "train")
    lone = next(i for i, m in enumerate(train.molecules) if m.edge_index.shape[1] == 0)
    rows = [i for i in range(8) if i != lone][:7] + [lone]
    graph = collate([train.molecules[i] for i in rows])
    texts = train.texts[rows]
    hyper = Hyper(
        temperature=0.07, learning_rate=3e-4, weight_decay=1e-4, beta1=0.9, beta2=0.999, eps=1e-8, clip=1.0
    )
    config = {"hidden": 128, "heads": 4, "layers": 4, "output_dim": texts.shape[1]}
    torch.manual_seed(seed)
    model = parity_model(config)
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    batch = {
        "x": graph.x,
        "edge_index": graph.edge_index,
        "edge_attr": graph.edge_attr,
        "batch": graph.batch,
        "num_graphs": graph.num_graphs,
    }
    result = one_step(model, batch, texts, hyper)

    arrays: dict[str, np.ndarray] = {k: np.asarray(v, dtype=np.int64) for k, v in config.items()}
    arrays.update({k: np.asarray(getattr(hyper, k), dtype=np.float64) for k in FLOAT_SCALARS})
    arrays.update(
        {
            "x": graph.x.numpy(),
            "edge_index": graph.edge_index.numpy(),
            "edge_attr": graph.edge_attr.numpy(),
            "batch": graph.batch.numpy(),
            "num_graphs": np.asarray(graph.num_graphs, dtype=np.int64),
            "texts": texts.numpy().astype(np.float32),
            "expected.embeddings": result.embeddings.numpy().astype(np.float32),
            "expected.loss": np.asarray(result.loss, dtype=np.float64),
        }
    )
    arrays.update({f"param.{k}": v.numpy().astype(np.float32) for k, v in before.items()})
    arrays.update({f"after.{k}": v.numpy().astype(np.float32) for k, v in result.after.items()})
    return arrays


def float64_case(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same case with expected values computed in float64 and stored as float32: a stand-in
    for a correct implementation whose rounding differs."""
    case = {k: v for k, v in arrays.items()}
    hyper = Hyper(**{k: float(arrays[k]) for k in FLOAT_SCALARS})
    model = GraphTransformer(
        hidden=int(arrays["hidden"]),
        out_dim=int(arrays["output_dim"]),
        layers=int(arrays["layers"]),
        heads=int(arrays["heads"]),
        dropout=0.0,
    )
    model.load_state_dict({k[len("param.") :]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("param.")})
    model = model.double()
    batch = {k: torch.from_numpy(arrays[k]) for k in ("x", "edge_index", "edge_attr", "batch")}
    batch["num_graphs"] = int(arrays["num_graphs"])
    result = one_step(model, batch, torch.from_numpy(arrays["texts"]).double(), hyper)
    case["expected.embeddings"] = result.embeddings.numpy().astype(np.float32)
    case["expected.loss"] = np.asarray(result.loss, dtype=np.float64)
    case.update({f"after.{k}": v.numpy().astype(np.float32) for k, v in result.after.items()})
    return case


def self_test(data_dir: Path, tolerance: float, json_path: Path | None) -> int:
    arrays = self_test_arrays(data_dir)
    failures = []

    def expect(name: str, code: int, want: int) -> None:
        if code != want:
            failures.append(f"{name} exited {code}, expected {want}")

    with tempfile.TemporaryDirectory(prefix="parity-self-test-") as tmp:
        tmp = Path(tmp)

        print("self-test 1/4: an .npz written by this reference must pass")
        exact = tmp / "exact.npz"
        write_case(exact, arrays)
        expect("the exact case", check(exact, tolerance, json_path), 0)

        print("self-test 2/4: the same step computed in float64 (different rounding) must pass")
        path = tmp / "float64.npz"
        write_case(path, float64_case(arrays))
        expect("the float64 case", check(path, tolerance), 0)

        key = "param.convs.0.lin_query.weight"
        print(f"self-test 3/4: {key}[0, 0] + 1e-3 must fail (also with --adam-noise-floor 1e-8)")
        nudged = dict(arrays)
        nudged[key] = arrays[key].copy()
        nudged[key][0, 0] += np.float32(1e-3)
        path = tmp / "nudged.npz"
        write_case(path, nudged)
        expect("the nudged case", check(path, tolerance), 1)
        expect("the nudged case with a noise floor", check(path, tolerance, noise_floor=1e-8, quiet=True), 1)

        gone = "after.proj.8.bias"
        print(f"self-test 4/4: without {gone} the input is malformed (exit 2)")
        path = tmp / "missing.npz"
        write_case(path, {k: v for k, v in arrays.items() if k != gone})
        expect(f"the case without {gone}", check(path, tolerance), 2)

    if failures:
        print("SELF-TEST FAILED: " + "; ".join(failures))
        return 1
    print(
        "self-test passed: the exact and float64 cases pass, a 1e-3 nudge fails, "
        "a missing array is malformed input"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("npz", nargs="?", type=Path, help="the .npz the Rust side wrote")
    p.add_argument("--json", type=Path, help="also write a JSON summary here")
    p.add_argument("--tolerance", type=float, default=1e-5, help="max abs difference allowed (1e-5)")
    p.add_argument("--self-test", action="store_true", help="check this script against itself")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="ChEBI-20 folder (self-test)")
    p.add_argument(
        "--adam-noise-floor",
        type=float,
        metavar="G",
        help="do not count parameter elements whose gradient is below G on both sides (off by default)",
    )
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    if args.self_test == (args.npz is not None):
        p.error("give either an .npz or --self-test")
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    if args.self_test:
        return self_test(args.data_dir, args.tolerance, args.json)
    if not args.npz.is_file():
        print(f"parity: no such file {args.npz}", file=sys.stderr)
        return 2
    return check(args.npz, args.tolerance, args.json, args.adam_noise_floor)


if __name__ == "__main__":
    sys.exit(main())
