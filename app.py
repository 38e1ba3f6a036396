"""vton-zoo demo (Gradio Blocks). The side-by-side comparison UI arrives with the demo issue; until then this entry
point lists the registered models and exits."""

from __future__ import annotations

import vton_zoo


def main() -> None:
    print("vton-zoo", vton_zoo.__version__)
    print("The Gradio demo is not built yet (it lands with the demo issue). Registered models:")
    for name in vton_zoo.list_models():
        spec = vton_zoo.get_spec(name)
        print(f"  {name:<10} {spec.title:<10} {spec.resolution[0]}x{spec.resolution[1]}  {spec.paper}")


if __name__ == "__main__":
    main()
