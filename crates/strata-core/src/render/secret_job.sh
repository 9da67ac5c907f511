# Creates the generated secrets that are missing, with the same values in
# every namespace of a secret, and adds the keys a copy lacks; never
# changes a value. `GENERATE` holds one line per secret: its name, type,
# keys and namespaces (lists comma-separated); `PLATFORM` labels what it
# creates. kubectl finds the cluster in `KUBECONFIG`, else in-cluster.
# Values stay in memory: they reach kubectl on its standard input only.
set -euf

# A copy of secret $1 in namespace $2, if it exists: its resourceVersion,
# then a KEY=BASE64 line per key.
read_copy() {
  kubectl get secret "$1" -n "$2" --ignore-not-found \
    -o 'go-template={{.metadata.resourceVersion}}{{"\n"}}{{range $k, $v := .data}}{{$k}}={{$v}}{{"\n"}}{{end}}'
}

# The base64 value of key $2 in copy $1, if it has one.
value_in() {
  printf '%s\n' "$1" | awk -v key="$2" 'NR > 1 && index($0, key "=") == 1 { print substr($0, length(key) + 2); exit }'
}

# 32 random letters and digits.
new_value() {
  tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32
}

while read -r name type keys namespaces; do
  [ -n "$name" ] || continue
  keys=$(echo "$keys" | tr , ' ')
  namespaces=$(echo "$namespaces" | tr , ' ')
  n=0
  for ns in $namespaces; do
    n=$((n + 1))
    eval "copy_$n=\$(read_copy \"\$name\" \"\$ns\")"
  done

  # One value per key for every namespace: the first found, else a new one.
  k=0
  for key in $keys; do
    k=$((k + 1))
    found=
    n=0
    for ns in $namespaces; do
      n=$((n + 1))
      eval "copy=\$copy_$n"
      [ -n "$found" ] || found=$(value_in "$copy" "$key")
    done
    if [ -n "$found" ]; then
      eval "old_$k=\$found new_$k="
    else
      eval "old_$k= new_$k=\$(new_value)"
    fi
  done

  n=0
  for ns in $namespaces; do
    n=$((n + 1))
    eval "copy=\$copy_$n"
    data= string_data= missing=
    k=0
    for key in $keys; do
      k=$((k + 1))
      [ -z "$copy" ] || [ -z "$(value_in "$copy" "$key")" ] || continue
      missing="$missing${missing:+,}$key"
      eval "old=\$old_$k new=\$new_$k"
      if [ -n "$old" ]; then
        data="$data${data:+,}\"$key\":\"$old\""
      else
        string_data="$string_data${string_data:+,}\"$key\":\"$new\""
      fi
    done
    [ -n "$missing" ] || continue
    values="\"data\":{$data},\"stringData\":{$string_data}"
    # The object is fixed and the server checks it: no client-side schema
    # (which would be fetched from the server first).
    if [ -z "$copy" ]; then
      generated=$(echo $keys | tr ' ' ,)
      printf '%s' "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"$name\",\"namespace\":\"$ns\",\"labels\":{\"app.kubernetes.io/managed-by\":\"strata\",\"strata.dev/platform\":\"$PLATFORM\"},\"annotations\":{\"strata.dev/generated\":\"$generated\"}},\"type\":\"$type\",$values}" |
        kubectl create --validate=false -f - >/dev/null
      echo "created secret $ns/$name ($missing)"
    else
      # With the resourceVersion read, the patch fails rather than
      # overwrite a copy that changed since.
      version=$(printf '%s\n' "$copy" | head -n 1)
      printf '%s' "{\"metadata\":{\"resourceVersion\":\"$version\"},$values}" |
        kubectl patch secret "$name" -n "$ns" --type=merge --patch-file=/dev/stdin >/dev/null
      echo "added $missing to secret $ns/$name"
    fi
  done
done <<EOF
$GENERATE
EOF
