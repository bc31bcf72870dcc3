#!/bin/sh
# Entrypoint of the Velo Python images.
# Secrets arrive as files (compose secrets, Kubernetes Secret volumes), never baked into images:
# for every NAME_FILE=/path in the environment, export NAME=<file content, trailing newlines stripped>.
# Setting both NAME and NAME_FILE is a configuration error.
set -eu
for name in $(env | sed -n 's/^\([A-Z][A-Z0-9_]*\)_FILE=.*/\1/p'); do
    eval "file=\${${name}_FILE}"
    eval "current=\${${name}:-}"
    if [ -n "$current" ]; then
        echo "entrypoint: both $name and ${name}_FILE are set; set only one" >&2
        exit 64
    fi
    if [ ! -r "$file" ]; then
        echo "entrypoint: ${name}_FILE=$file is not a readable file" >&2
        exit 66
    fi
    value=$(cat "$file")
    export "$name=$value"
    unset "${name}_FILE"
done
exec "$@"
