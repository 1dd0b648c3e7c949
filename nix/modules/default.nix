# All cognix module options: cog.* (cog.yaml) and cognix.* (Nix engine settings), and the original
# cognix's option names (aliases with a warning, or an error saying what replaced them).
{
  imports = [ ./cog.nix ./cognix.nix ./original-cognix.nix ];
}
