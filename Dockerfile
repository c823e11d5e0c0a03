# The image a Docker or Kubernetes work pool starts for each flow run (docs/containers.md says why each line is here).
# Build it with `make image`; the deployments of prefect.docker.yaml and prefect.kubernetes.yaml run in it.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# The project's folder: the deployments' pull step changes into it, settings.ini is found there, and the departments'
# flows are imported from it (`flows.dept_<id>` is never installed, so the folder is on the import path).
ENV AIRNUB_PROJECT_ROOT=/opt/project PYTHONPATH=/opt/project

# Flow runs run as a user of their own, never root (by number, so that Kubernetes' runAsNonRoot can check it). The
# project's folder is theirs (the outputs of a run without a storage root), and so is the mount point of the shared
# storage (AIRNUB_STORAGE_ROOT of prefect.docker.yaml): a new Docker volume takes its owner from the image.
RUN useradd --create-home --uid 10001 airnub \
 && install -d -o airnub -g airnub /opt/project /mnt/airnub-storage
WORKDIR /opt/project

# The tool first: it changes less often than the project, so its layer is reused by the next build.
COPY --chown=airnub:airnub airnub/ airnub/
RUN pip install ./airnub && rm -rf airnub/build
# The project (its package; `flows/`, `nbs/`, `configs/` and settings.ini stay files of the folder), and the project
# kernel every notebook runs in, registered under the name settings.ini gives it.
COPY --chown=airnub:airnub . .
RUN pip install . && rm -rf build \
 && kernel="$(airnub settings get kernel_name)" \
 && python -m ipykernel install --sys-prefix --name "$kernel" --display-name "Python ($kernel)"

# No credential is baked in: the worker gives each flow run PREFECT_API_URL and PREFECT_API_AUTH_STRING.
USER 10001
