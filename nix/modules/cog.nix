# Options mirroring cog.yaml. Defaults come from the model's lock.json ("cognix".config and
# "cognix".target) as mkDefault definitions (nix/lib/cog-config.nix), so default.nix may override.
{ lib, ... }:
let
  t = lib.types;
  opt = type: default: description: lib.mkOption { inherit type default description; };
in
{
  options.cog = {
    build = {
      gpu = opt t.bool false "cog.yaml build.gpu: build a CUDA image";
      cuda = opt (t.nullOr t.str) null "CUDA version (cog.yaml build.cuda, else derived from torch at lock time)";
      cudnn = opt (t.nullOr t.str) null "cuDNN version (cog.yaml build.cudnn)";
      python_version = opt t.str "3.11" "major.minor Python version (cog.yaml build.python_version)";
      system_packages = opt (t.listOf t.str) [ ] "Debian package names, mapped through nix/lib/debian-packages.nix";
      python_packages = opt (t.listOf t.str) [ ] "requirement lines (already resolved in lock.json)";
      run = opt (t.listOf (t.attrsOf t.anything)) [ ] "cog.yaml build.run steps (not supported by the Nix engine; must be empty)";
    };
    predict = opt (t.nullOr t.str) null "cog.yaml predict: module.py:Class";
    train = opt (t.nullOr t.str) null "cog.yaml train: module.py:Class";
    concurrency.max = opt (t.nullOr t.ints.positive) null "cog.yaml concurrency.max (null: not set, the runtime's default)";
    environment = opt (t.listOf t.str) [ ] "cog.yaml environment: NAME=value entries";
    weights = opt (t.listOf (t.attrsOf t.anything)) [ ] "cog.yaml weights (pinned in lock.json)";
  };
}
