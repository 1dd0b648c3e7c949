# cognix's own options: what a model's default.nix may set beyond cog.yaml.
{ lib, ... }:
let
  t = lib.types;
  opt = type: default: description: lib.mkOption { inherit type default description; };
in
{
  options.cognix = {
    name = opt t.str "model" "image name (the flake attribute name by default)";
    maxLayers = opt t.ints.positive 100 "most layers in the image, the source layer included; past it the adjacent store layers with the smallest combined size are merged";
    sourceIgnores = opt (t.listOf t.str) [ ] "gitignore-style patterns left out of /src (added to .dockerignore's)";
    environment = opt (t.attrsOf t.str) { } "extra image Env entries; win over cog.yaml's environment";
    systemPackages = opt (t.attrsOf (t.either t.package (t.listOf t.package))) { } "Debian name -> nixpkgs package(s); wins over nix/lib/debian-packages.nix";
    rootPackages = opt (t.listOf t.package) [ ] "extra packages linked into the image root (/bin, /lib...): Nix-only tools such as ebsynth";
    cudaFromNixpkgs = opt t.bool false "take CUDA libraries from nixpkgs' cudaPackages_<cuda> instead of the nvidia-* wheels";
    user = opt t.str "cog" "image User: the non-root user cog (uid 1000) like the native engine; \"\" for root";
    revision = opt (t.nullOr t.str) null "org.opencontainers.image.revision label";
  };
}
