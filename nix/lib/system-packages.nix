# Resolve cog.yaml `build.system_packages` (Debian names) to nixpkgs derivations.
# Pure: only builtins; `pkgs` is any attrset of packages (tests pass a stub).
{
  pkgs,
  # cognix.systemPackages: name -> derivation or list of derivations; wins over the table
  extra ? { },
  table ? import ./debian-packages.nix,
}:
let
  lookup = name: attrPath:
    let
      parts = builtins.filter builtins.isString (builtins.split "\\." attrPath);
      go = set: rest:
        if rest == [ ] then set
        else if builtins.hasAttr (builtins.head rest) set then go (builtins.getAttr (builtins.head rest) set) (builtins.tail rest)
        else throw "system package `${name}` maps to nixpkgs attribute `${attrPath}`, which this nixpkgs does not have; set cognix.systemPackages.\"${name}\" = pkgs.<attribute>; in the model's default.nix";
    in
    go pkgs parts;

  resolve = name:
    if builtins.hasAttr name extra then
      let value = builtins.getAttr name extra; in if builtins.isList value then value else [ value ]
    else if builtins.hasAttr name table then
      map (lookup name) (builtins.getAttr name table)
    else
      throw "system package `${name}` (cog.yaml build.system_packages) is not in cognix's Debian-to-nixpkgs table (nix/lib/debian-packages.nix); map it in the model's default.nix: cognix.systemPackages.\"${name}\" = pkgs.<attribute>;";
in
names: builtins.concatLists (map resolve names)
