# All cognix module options: cog.* (cog.yaml) and cognix.* (Nix engine settings).
{
  imports = [ ./cog.nix ./cognix.nix ];
}
