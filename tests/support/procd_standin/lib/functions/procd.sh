# A stand-in for OpenWrt's /lib/functions/procd.sh (package/system/procd/files), written for this project's
# tests: the calls the tr069-bridge init script makes, building the same `ubus call service` messages as the
# real one with jshn (same keys, same values, same order; checked against tests/data/procd/init-script.json)
# in plain POSIX sh. procd_lock's flock is left out: the tests run one command at a time.

_procd_str() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

_procd_strings() {
	local sep="" out=""
	for v in "$@"; do
		out="$out$sep$(_procd_str "$v")"
		sep=", "
	done
	printf '%s' "$out"
}

procd_lock() { :; }

procd_open_service() {
	_procd_name="$1"
	_procd_script="$2"
	_procd_seq=0
	_procd_instances=""
	_procd_triggers=""
}

procd_open_instance() {
	_procd_seq=$((_procd_seq + 1))
	_procd_instance="${1:-instance$_procd_seq}"
	_procd_fields=""
}

procd_set_param() {
	local type="$1" field
	shift
	case "$type" in
		command|file|netdev)
			field="$(_procd_str "$type"): [ $(_procd_strings "$@") ]" ;;
		respawn)
			[ $# -gt 0 ] || set -- 3600 5 5  # system.@service[0]'s defaults, as procd_close_instance fills them
			field="$(_procd_str "$type"): [ $(_procd_strings "$@") ]" ;;
		env|data|limits)
			local pairs="" sep="" kv
			for kv in "$@"; do
				pairs="$pairs$sep$(_procd_str "${kv%%=*}"): $(_procd_str "${kv#*=}")"
				sep=", "
			done
			field="$(_procd_str "$type"): { $pairs }" ;;
		stdout|stderr|no_new_privs)
			if [ "$1" = 1 ]; then field="$(_procd_str "$type"): true"; else field="$(_procd_str "$type"): false"; fi ;;
		*)
			field="$(_procd_str "$type"): $(_procd_str "$1")" ;;
	esac
	_procd_fields="${_procd_fields:+$_procd_fields, }$field"
}

procd_close_instance() {
	_procd_instances="${_procd_instances:+$_procd_instances, }$(_procd_str "$_procd_instance"): { $_procd_fields }"
}

procd_add_reload_trigger() {
	local name file
	name="$(basename "$initscript")"
	for file in "$@"; do
		_procd_triggers="${_procd_triggers:+$_procd_triggers, }[ \"config.change\", [ \"if\", [ \"eq\", \"package\", $(_procd_str "$file") ], [ \"run_script\", $(_procd_str "/etc/init.d/$name"), \"reload\" ] ], 1000 ]"
	done
}

procd_close_service() {
	service_triggers
	ubus call service "${1:-set}" "{ \"name\": $(_procd_str "$_procd_name"), \"script\": $(_procd_str "$_procd_script"), \"instances\": { $_procd_instances }, \"triggers\": [ $_procd_triggers ], \"data\": { } }"
}

procd_running() {
	ubus call service list "{ \"name\": $(_procd_str "$1") }" | grep -q '"running": true'
}

procd_kill() {
	ubus call service delete "{ \"name\": $(_procd_str "$1")${2:+, \"instance\": $(_procd_str "$2")} }"
}

procd_send_signal() {
	local signal="$3"
	case "$signal" in
		HUP) signal=1 ;;  # what `kill -l HUP` says in ash and bash (dash's kill -l takes numbers only)
		[A-Z]*) signal="$(kill -l "$signal" 2>/dev/null)" || return 1 ;;
	esac
	ubus call service signal "{ \"name\": $(_procd_str "$1")${2:+$( [ "$2" != "*" ] && printf ', "instance": %s' "$(_procd_str "$2")")}${signal:+, \"signal\": $signal} }"
}
