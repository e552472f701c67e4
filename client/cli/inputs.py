"""The job's inputs from the command line: `--env K=V` pairs and `--input DIR|ZIP`."""

import io
import zipfile
from pathlib import Path

from client.cli.errors import CliError


def env_parse(pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--env: expected KEY=VALUE, got {pair!r}", usage=True)
        env[key] = value
    return env


def input_zip(path: Path) -> bytes:
    """A zip file as it is, or a directory zipped (paths relative to it, so `DIR/a.txt` is
    `/volume/a.txt` in the job)."""
    if path.is_dir():
        return _zip_directory(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return path.read_bytes()
    if path.exists():
        raise CliError(f"--input: {path} is neither a directory nor a zip file", usage=True)
    raise CliError(f"--input: {path} does not exist", usage=True)


def _zip_directory(root: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_symlink():
                raise CliError(f"--input: {path} is a symbolic link; the job gets files only", usage=True)
            if path.is_file():
                archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()
