# ebsynth (CPU build) from source: https://github.com/jamriska/ebsynth, build-linux-cpu_only.sh.
{ stdenv, fetchFromGitHub }:
stdenv.mkDerivation {
  pname = "ebsynth";
  version = "2019-05-10";
  src = fetchFromGitHub {
    owner = "jamriska";
    repo = "ebsynth";
    rev = "2f5c97c0c21a86bb7334dee61453623e6a3d41c3";
    hash = "sha256-M+dTgvAaRwGaAYo8cAJ1IrKKtMhzc8mI+LXZXE6Ivko=";
  };
  buildPhase = ''
    runHook preBuild
    mkdir -p bin
    sh ./build-linux-cpu_only.sh
    runHook postBuild
  '';
  installPhase = ''
    runHook preInstall
    install -Dm755 bin/ebsynth $out/bin/ebsynth
    runHook postInstall
  '';
}
