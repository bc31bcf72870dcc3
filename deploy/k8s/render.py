"""Build a kustomize directory without kustomize (machines and CI images without kubectl).

Supports exactly the subset the Velo overlays use, and refuses anything else so an overlay cannot
silently render differently from `kubectl kustomize`:
  resources (files and directories), namespace, labels (pairs, includeTemplates), images
  (name/newName/newTag/digest) and patches (strategic-merge patches from `path` or inline `patch`,
  optionally with a `target` of kind/name).
Strategic merge here means: mappings merge recursively, `null` deletes a key, lists of mappings that
all carry `name` (containers, env, volumes, ports, ...) merge item by item on `name`, other lists
replace.

usage: render.py <kustomization-dir> [-o FILE] [--compare FILE]
  --compare FILE  also check that FILE (e.g. `kubectl kustomize` output) has the same objects.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

import yaml

SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "patches"}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
}
POD_TEMPLATE_PATHS = (("spec", "template"), ("spec", "jobTemplate", "spec", "template"))


class RenderError(Exception):
    pass


Obj = dict[str, Any]


def _load_docs(path: Path) -> list[Obj]:
    with path.open() as fh:
        return [doc for doc in yaml.safe_load_all(fh) if doc]


def _key(obj: Obj) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""))


def _named_list(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and "name" in i for i in items)


def strategic_merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = strategic_merge(merged[key], value)
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and _named_list(base) and _named_list(patch):
        merged_list = [copy.deepcopy(i) for i in base]
        index = {item["name"]: n for n, item in enumerate(merged_list)}
        for item in patch:
            if item["name"] in index:
                n = index[item["name"]]
                merged_list[n] = strategic_merge(merged_list[n], item)
            else:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(patch)


def _pod_specs(obj: Obj) -> list[Obj]:
    specs = []
    for path in POD_TEMPLATE_PATHS:
        node: Any = obj
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get("spec"), dict):
            specs.append(node)
    return specs


def _apply_patches(objs: list[Obj], patches: list[Obj], base_dir: Path) -> None:
    for entry in patches:
        unknown = set(entry) - {"path", "patch", "target"}
        if unknown:
            raise RenderError(f"unsupported patch fields {sorted(unknown)} in {base_dir}")
        if "path" in entry:
            docs = _load_docs(base_dir / entry["path"])
        elif "patch" in entry:
            docs = [d for d in yaml.safe_load_all(entry["patch"]) if d]
        else:
            raise RenderError(f"patch without path or patch in {base_dir}")
        if isinstance(docs[0], list):
            raise RenderError(f"JSON6902 patches are not supported ({base_dir})")
        target = entry.get("target") or {}
        if set(target) - {"kind", "name"}:
            raise RenderError(f"only kind/name patch targets are supported ({base_dir})")
        for doc in docs:
            kind = target.get("kind", doc.get("kind"))
            name = target.get("name", (doc.get("metadata") or {}).get("name"))
            matches = [o for o in objs if o.get("kind") == kind and o["metadata"].get("name") == name]
            if not matches:
                raise RenderError(f"patch target {kind}/{name} not found ({base_dir})")
            for obj in matches:
                body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind")}
                if "metadata" in body:
                    body["metadata"] = {k: v for k, v in body["metadata"].items() if k != "name"}
                merged = strategic_merge(obj, body)
                obj.clear()
                obj.update(merged)


def _apply_namespace(objs: list[Obj], namespace: str) -> None:
    for obj in objs:
        if obj.get("kind") not in CLUSTER_SCOPED:
            obj["metadata"]["namespace"] = namespace


def _apply_labels(objs: list[Obj], entries: list[Obj], base_dir: Path) -> None:
    for entry in entries:
        if set(entry) - {"pairs", "includeTemplates"} or entry.get("includeSelectors"):
            raise RenderError(f"labels: only pairs and includeTemplates are supported ({base_dir})")
        pairs = {str(k): str(v) for k, v in entry["pairs"].items()}
        for obj in objs:
            obj["metadata"].setdefault("labels", {}).update(pairs)
            if entry.get("includeTemplates"):
                for template in _pod_specs(obj):
                    template.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def _split_image(image: str) -> tuple[str, str]:
    if "@" in image:
        name, digest = image.split("@", 1)
        return name, "@" + digest
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = image.rsplit(":", 1)
        return name, ":" + tag
    return image, ""


def _apply_images(objs: list[Obj], images: list[Obj], base_dir: Path) -> None:
    for entry in images:
        if set(entry) - {"name", "newName", "newTag", "digest"}:
            raise RenderError(f"unsupported images fields in {base_dir}")
        for obj in objs:
            for template in _pod_specs(obj):
                spec = template["spec"]
                for container in spec.get("initContainers", []) + spec.get("containers", []):
                    name, suffix = _split_image(container["image"])
                    if name != entry["name"]:
                        continue
                    new_name = entry.get("newName", name)
                    if "digest" in entry:
                        suffix = "@" + entry["digest"]
                    elif "newTag" in entry:
                        suffix = ":" + str(entry["newTag"])
                    container["image"] = new_name + suffix


def build(directory: Path) -> list[Obj]:
    kfile = directory / "kustomization.yaml"
    if not kfile.is_file():
        raise RenderError(f"{kfile} not found")
    kust = yaml.safe_load(kfile.read_text()) or {}
    unknown = set(kust) - SUPPORTED_KEYS
    if unknown:
        raise RenderError(f"{kfile}: unsupported keys {sorted(unknown)} (extend render.py or simplify)")

    objs: list[Obj] = []
    for res in kust.get("resources", []):
        path = (directory / res).resolve()
        objs.extend(build(path) if path.is_dir() else _load_docs(path))
    seen: set[tuple[str, str, str]] = set()
    for obj in objs:
        if _key(obj) in seen:
            raise RenderError(f"duplicate object {_key(obj)} in {directory}")
        seen.add(_key(obj))

    _apply_patches(objs, kust.get("patches", []), directory)
    if "namespace" in kust:
        _apply_namespace(objs, kust["namespace"])
    _apply_labels(objs, kust.get("labels", []), directory)
    _apply_images(objs, kust.get("images", []), directory)
    return objs


def _index(objs: list[Obj]) -> dict[tuple[str, str, str], Obj]:
    return {_key(o): o for o in objs}


def compare(ours: list[Obj], theirs: list[Obj]) -> list[str]:
    a, b = _index(ours), _index(theirs)
    problems = [f"only in render.py output: {k}" for k in sorted(a.keys() - b.keys())]
    problems += [f"only in the compared output: {k}" for k in sorted(b.keys() - a.keys())]
    problems += [f"differs: {k}" for k in sorted(a.keys() & b.keys()) if a[k] != b[k]]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("-o", "--output", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args(argv)
    try:
        objs = build(args.directory)
    except (RenderError, OSError, yaml.YAMLError) as exc:
        print(f"render.py: {exc}", file=sys.stderr)
        return 1
    text = yaml.safe_dump_all(objs, sort_keys=False, default_flow_style=False)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    if args.compare:
        problems = compare(objs, _load_docs(args.compare))
        for line in problems:
            print(f"render.py: {line}", file=sys.stderr)
        if problems:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
