"""CycloneDX SBOM of the environment (or of a recorded run's manifest)."""

from __future__ import annotations

from typing import Any

from vatio.errors import InputError


def build_sbom(packages: list[dict[str, str]], *, run_id: str | None, lockfile: dict | None) -> str:
    """CycloneDX 1.5 JSON; the run id and lockfile hash go in the metadata properties."""
    try:
        from cyclonedx.model import Property
        from cyclonedx.model.bom import Bom
        from cyclonedx.model.component import Component, ComponentType
        from cyclonedx.output.json import JsonV1Dot5
        from packageurl import PackageURL
    except ImportError:
        raise InputError(
            "An SBOM needs the optional dependency cyclonedx-python-lib.",
            "Install it with: pip install 'vatio[sbom]'",
        ) from None
    bom = Bom()
    root = Component(
        name="vatio-environment",
        type=ComponentType.APPLICATION,
        version=run_id or "current",
        bom_ref="vatio-environment",
    )
    bom.metadata.component = root
    properties: list[Any] = [Property(name="vatio:generator", value="vatio env sbom")]
    if run_id:
        properties.append(Property(name="vatio:run_id", value=run_id))
    if lockfile:
        properties.append(Property(name="vatio:lockfile", value=str(lockfile.get("path"))))
        properties.append(Property(name="vatio:lockfile_sha256", value=str(lockfile.get("sha256"))))
    bom.metadata.properties.update(properties)
    components = []
    for package in packages:
        components.append(
            Component(
                name=package["name"],
                version=package["version"],
                type=ComponentType.LIBRARY,
                purl=PackageURL(type="pypi", name=package["name"], version=package["version"]),
                bom_ref=f"pkg:pypi/{package['name']}@{package['version']}",
            )
        )
    bom.components.update(components)
    # The environment is a flat set: each package is a direct dependency of the root.
    bom.register_dependency(root, components)
    return JsonV1Dot5(bom).output_as_string(indent=2)
