# The interpreter for cog.yaml's build.python_version: nixpkgs' python3X. Cog accepts 3.8 to 3.14; a pinned
# nixpkgs has some of them, and the error says which (the native engine serves every one). Builtins only.
pkgs: version:
let
  parts = builtins.splitVersion version;
  minor = "${builtins.elemAt parts 0}.${builtins.elemAt parts 1}";
  attrOf = v: "python" + builtins.replaceStrings [ "." ] [ "" ] v;
  cogVersions = [ "3.8" "3.9" "3.10" "3.11" "3.12" "3.13" "3.14" ];
  present = builtins.filter (v: pkgs ? ${attrOf v}) cogVersions;
in
pkgs.${attrOf minor} or (throw (
  "Python ${minor} (cog.yaml build.python_version) is not in the pinned nixpkgs (no pkgs.${attrOf minor}); "
  + "it has ${if present == [ ] then "none of Cog's versions" else builtins.concatStringsSep ", " present}: "
  + "choose one of those, or build with the native engine (`cognix build`), which serves every Python Cog accepts"
))
