# The original cognix's option names (./original-cognix-names.nix), so a default.nix written for it
# evaluates, or says what to change:
# - renamed / changed: the old name is an alias whose definitions go to the new option (at their
#   priority), with a warning printed when the new option's value is used and listed in
#   config.warnings; reading the old name gives the new option's value.
# - removed: defining the old name fails the evaluation with what to do instead (config.assertions,
#   checked when cognix.name is read: nix/lib reads it for every image, Python env and devShell);
#   reading it gives null.
# `warnings` and `assertions` are NixOS's options of those names, so lib.mkRenamedOptionModule and
# lib.mkRemovedOptionModule work in a model's default.nix too (their warnings are listed, not printed).
{ lib, config, ... }:
let
  inherit (lib) mkOption types;
  names = import ./original-cognix-names.nix;
  show = lib.showOption;

  # definitions of `from` forwarded to `to`: the module lib.mkRenamedOptionModule makes, printing its warning
  alias = { from, to }: { config, options, ... }:
    let
      fromOpt = lib.getAttrFromPath from options;
      message = "`${show from}' (the original cognix's name, defined in ${lib.showFiles fromOpt.files}) is now `${show to}'; use that name.";
    in
    {
      options = lib.setAttrByPath from (mkOption {
        visible = false;
        type = (lib.getAttrFromPath to options).type;
        description = "The original cognix's name of {option}`${show to}`.";
        apply = _: lib.getAttrFromPath to config;
      });
      config = lib.mkMerge [
        { warnings = lib.optional fromOpt.isDefined message; }
        (lib.modules.mkAliasAndWrapDefsWithPriority (defs: lib.setAttrByPath to (lib.warn message defs)) fromOpt)
      ];
    };

  change = { from, to, values, when, value, note }: { config, options, ... }:
    let
      fromOpt = lib.getAttrFromPath from options;
      message = "`${show from}' (the original cognix's option, defined in ${lib.showFiles fromOpt.files}) maps to `${show to}': ${note}.";
      check = v: if builtins.elem v values then v
        else throw "`${show from}' (defined in ${lib.showFiles fromOpt.files}) is ${builtins.toJSON v}, not one of ${builtins.toJSON values}";
    in
    {
      options = lib.setAttrByPath from (mkOption {
        visible = false;
        type = types.enum values;
        description = "The original cognix's option; see {option}`${show to}`.";
        apply = _: lib.getAttrFromPath to config;
      });
      config = lib.mkMerge [
        { warnings = lib.optional fromOpt.isDefined message; }
        # the definitions themselves: the old name's value is the new option's (apply above)
        (lib.mkIf (builtins.any when (map check fromOpt.definitions))
          (lib.setAttrByPath to (lib.warn message (lib.mkOverride (fromOpt.highestPrio or 100) value))))
      ];
    };

  # lib.mkRemovedOptionModule's module, with cognix's wording
  removed = { from, why }: { options, ... }:
    let
      opt = lib.getAttrFromPath from options;
      message = "`${show from}' (an option of the original cognix, defined in ${lib.showFiles opt.files}) has no equivalent in cognix: ${why}. Remove it.";
    in
    {
      options = lib.setAttrByPath from (mkOption {
        visible = false;
        description = "The original cognix's option (no equivalent in cognix).";
        # readable (null), so `nix eval .#NAME.modules.config.cog --json` still prints
        apply = _: null;
      });
      config.assertions = lib.optional opt.isDefined { assertion = false; inherit message; };
    };

  failed = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
in
{
  imports = map alias names.renamed ++ map change names.changed ++ map removed names.removed;

  options.warnings = mkOption {
    type = types.listOf types.str;
    default = [ ];
    internal = true;
    description = "Warnings about this model's definitions (the original cognix's option names it uses).";
  };
  options.assertions = mkOption {
    type = types.listOf types.unspecified;
    default = [ ];
    internal = true;
    description = "{ assertion; message; } pairs; a false assertion fails the evaluation with its message.";
  };

  # failed assertions stop the evaluation where every consumer starts (nothing outranks priority 0)
  config.cognix.name = lib.mkIf (failed != [ ])
    (lib.mkOverride 0 (throw "cognix: this model's modules need changes:\n${lib.concatMapStrings (m: "- ${m}\n") failed}"));
}
