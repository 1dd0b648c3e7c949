# Options mirroring cog.yaml. Defaults come from the model's lock.json ("cognix".config and
# "cognix".target) as mkDefault definitions (nix/lib/cog-config.nix), so default.nix may override.
# config: cognix.systemPackages' names join system_packages (nix/tests/modules.nix imports this with lib alone)
{ lib, config ? { }, ... }:
let
  t = lib.types;
  opt = type: default: description: lib.mkOption { inherit type default description; };
  # shared with the native engine (cognix/config/model.py DEFAULT_PYTHON): one place for Cog's default
  defaults = builtins.fromJSON (builtins.readFile ../../cognix/config/defaults.json);
in
{
  options.cog = {
    build = {
      gpu = opt t.bool false "cog.yaml build.gpu: build a CUDA image";
      cuda = opt (t.nullOr t.str) null "CUDA version (cog.yaml build.cuda, else derived from torch at lock time)";
      cudnn = opt (t.nullOr t.str) null "cuDNN version (cog.yaml build.cudnn)";
      python_version = opt t.str defaults.python_version "major.minor Python version (cog.yaml build.python_version)";
      # cog.yaml's names, then every cognix.systemPackages name it does not list: a package mapped in
      # default.nix is in the image (and the wheels' libraries) whether or not cog.yaml names it
      system_packages = lib.mkOption {
        type = t.listOf t.str;
        default = [ ];
        apply = names: names ++ builtins.filter (n: !(builtins.elem n names)) (builtins.attrNames config.cognix.systemPackages);
        description = "Debian package names, mapped through nix/lib/debian-packages.nix; the names of cognix.systemPackages are added";
      };
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
