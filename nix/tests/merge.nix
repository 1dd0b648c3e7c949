# What nixpkgs' module system does when several modules define the same option (lib/modules.nix
# mergeDefinitions, then the option type's merge), for the stubs (no nixpkgs on the test
# machines). Only the definitions of the highest priority count (lib.mkForce 50 < plain 100 <
# lib.mkDefault 1000); several of them merge only where a type can: lists concatenate (listOf),
# equal values are one value (str, bool, int: mergeEqualOption), anything else is the real
# module system's error, e.g. a string next to a list in dream2nix's `env` option
# (attrsOf (nullOr (oneOf [ bool int str path package (listOf ...) ]))), which cognix's wheel
# module once hit against dream2nix's torch override.
# Modules are plain attrsets (functions and paths are skipped), values wrapped like the stubs'
# lib.mkDefault ({ _default = v; }) and lib.mkForce ({ _force = v; }); lib.mkOption
# ({ _option = ...; }), `options`, `imports` and `disabledModules` declare nothing here.
rec {
  prio = v: if builtins.isAttrs v && v ? _force then 50 else if builtins.isAttrs v && v ? _default then 1000 else 100;
  unwrap = v: if builtins.isAttrs v && v ? _force then v._force else if builtins.isAttrs v && v ? _default then v._default else v;
  isLeaf = v: !(builtins.isAttrs v) || v ? _force || v ? _default || v ? _option || v ? outPath || (v.type or null) == "derivation";

  # [ { loc = [ "a" "b" ]; value; prio; } ] for one module
  defsOf = loc: m:
    builtins.concatLists (map
      (n:
        let v = m.${n}; in
        if isLeaf v then (if builtins.isAttrs v && v ? _option then [ ] else [ { loc = loc ++ [ n ]; value = unwrap v; prio = prio v; } ])
        else defsOf (loc ++ [ n ]) v)
      (builtins.attrNames (removeAttrs m [ "options" "imports" "disabledModules" "_file" ])));

  # one option's definitions -> its value, or the module system's error
  mergeOption = loc: defs:
    let
      top = builtins.foldl' (p: d: if d.prio < p then d.prio else p) 1000 defs;
      kept = map (d: d.value) (builtins.filter (d: d.prio == top) defs);
      name = builtins.concatStringsSep "." loc;
    in
    if builtins.length kept == 1 then builtins.head kept
    else if builtins.all builtins.isList kept then builtins.concatLists kept
    else if builtins.all (v: !(builtins.isList v) && v == builtins.head kept) kept then builtins.head kept
    else throw "The option `${name}' is defined multiple times while it's expected to be unique.";

  # the merged config of plain attrset modules (a nested attrset of merged leaves); throws like
  # lib.evalModules on a definition clash
  merge = modules:
    let
      defs = builtins.concatLists (map (defsOf [ ]) (builtins.filter builtins.isAttrs modules));
      byName = builtins.groupBy (d: builtins.concatStringsSep "\n" d.loc) defs;
      merged = builtins.mapAttrs (_: ds: { loc = (builtins.head ds).loc; value = mergeOption (builtins.head ds).loc ds; }) byName;
      set = loc: value: builtins.foldl' (acc: k: { ${k} = acc; }) value (builtins.genList (i: builtins.elemAt loc (builtins.length loc - 1 - i)) (builtins.length loc));
    in
    builtins.foldl' (acc: m: recursiveUpdate acc (set m.loc m.value)) { } (builtins.attrValues merged);

  recursiveUpdate = a: b:
    a // builtins.mapAttrs (n: v: if a ? ${n} && builtins.isAttrs a.${n} && builtins.isAttrs v && !(isLeaf v) then recursiveUpdate a.${n} v else v) b;
}
