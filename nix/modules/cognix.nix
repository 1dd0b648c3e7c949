# cognix's own options: what a model's default.nix may set beyond cog.yaml.
{ lib, ... }:
let
  t = lib.types;
  opt = type: default: description: lib.mkOption { inherit type default description; };
  # "a\n/models/*\n" -> [ "a" "/models/*" ] (empty lines dropped)
  ignoreLines = text: builtins.filter (l: builtins.isString l && l != "") (builtins.split "\n" text);
in
{
  options.cognix = {
    name = opt t.str "model" "image name (the flake attribute name by default)";
    maxLayers = opt t.ints.positive 100 "most layers in the image, the source layer included; past it the adjacent store layers with the smallest combined size are merged";
    # a list, or gitignore lines in one string as the original cognix took them (types.lines): both give the same list
    sourceIgnores = opt (t.coercedTo t.lines ignoreLines (t.listOf t.str)) [ ] "gitignore-style patterns left out of /src (added to .dockerignore's): a list, or a multi-line string";
    # booleans and integers are written with toString (true -> "1"), as the original cognix wrote them
    environment = opt (t.attrsOf (t.coercedTo (t.either t.bool t.int) toString t.str)) { } "extra image Env entries; win over cog.yaml's environment";
    systemPackages = opt (t.attrsOf (t.either t.package (t.listOf t.package))) { } "Debian name -> nixpkgs package(s); wins over nix/lib/debian-packages.nix";
    rootPackages = opt (t.listOf t.package) [ ] "extra packages linked into the image root (/bin, /lib...): Nix-only tools such as ebsynth";
    cudaFromNixpkgs = opt t.bool false "take CUDA libraries from nixpkgs' cudaPackages_<cuda> instead of the nvidia-* wheels";
    user = opt t.str "cog" "image User: the non-root user cog (uid 1000) like the native engine; \"\" for root";
    revision = opt (t.nullOr t.str) null "org.opencontainers.image.revision label";
    # a flake evaluates purely (getEnv gives ""), so the environment's value counts only with --impure
    sourceDateEpoch = opt (t.either t.int t.str) (let env = builtins.getEnv "SOURCE_DATE_EPOCH"; in if env == "" then 1 else env)
      "the image's time (config created, every file's mtime) in whole seconds since 1970-01-01 UTC; default: SOURCE_DATE_EPOCH (with --impure), else 1 (1970-01-01T00:00:01Z)";
  };
}
