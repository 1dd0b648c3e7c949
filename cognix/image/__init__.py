"""cognix.image: image bytes from an ImagePlan (the only code that writes tar archives).

- archive.stream_docker_archive(plan, out) / archive.write_oci_layout(plan, dir) / archive.image_id_of(plan)
- registry.push(plan, ref), load.load(plan), result.write_result(plan, path)
"""
