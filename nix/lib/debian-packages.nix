# Debian/Ubuntu package names (as written in cog.yaml `build.system_packages`) -> nixpkgs attributes.
#
# Each value is a list of attribute paths in nixpkgs ("xorg.libSM" = pkgs.xorg.libSM).
# Verified against nixpkgs' pkgs/top-level/all-packages.nix and pkgs/by-name (see README.md, section "Nix").
# A name missing here is an evaluation error; a model maps it itself in its default.nix:
#   cognix.systemPackages."libfoo1" = pkgs.foo;
{
  "build-essential" = [ "gcc" "gnumake" "binutils" ];
  "ca-certificates" = [ "cacert" ];
  cmake = [ "cmake" ];
  curl = [ "curl" ];
  espeak-ng = [ "espeak-ng" ];
  ffmpeg = [ "ffmpeg" ];
  git = [ "git" ];
  imagemagick = [ "imagemagick" ];
  libgl1 = [ "libGL" ];
  "libgl1-mesa-glx" = [ "libGL" ];
  "libglib2.0-0" = [ "glib" ];
  libopencv-dev = [ "opencv" ];
  libsm6 = [ "xorg.libSM" ];
  libsndfile1 = [ "libsndfile" ];
  libxext6 = [ "xorg.libXext" ];
  libxrender1 = [ "xorg.libXrender" ];
  pkg-config = [ "pkg-config" ];
  # at the pinned nixpkgs (2024-06) only the old name exists; `poppler-utils` is a 2025 alias
  poppler-utils = [ "poppler_utils" ];
  sox = [ "sox" ];
  tesseract-ocr = [ "tesseract" ];
  unzip = [ "unzip" ];
  wget = [ "wget" ];
  zip = [ "zip" ];
}
