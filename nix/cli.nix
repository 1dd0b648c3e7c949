# The cognix CLI as a Nix package (python3 and the dependencies from nixpkgs' python set).
{ pkgs, src }:
let
  py = pkgs.python3.pkgs;
in
py.buildPythonApplication {
  pname = "cognix";
  version = "0.1.0";
  pyproject = true;
  src = pkgs.lib.cleanSource src;
  nativeBuildInputs = [ py.setuptools ];
  propagatedBuildInputs = with py; [
    pydantic click pyyaml jinja2 packaging installer python-debian google-cloud-storage
    starlette uvicorn httpx
  ];
  # requirements.txt floors may be newer than this nixpkgs' and uv is a binary here, not a module:
  # the import check below is what must pass
  dontCheckRuntimeDeps = true;
  makeWrapperArgs = [ "--prefix" "PATH" ":" "${pkgs.uv}/bin" ];
  doCheck = false;
  pythonImportsCheck = [ "cognix.cli.main" ];
}
