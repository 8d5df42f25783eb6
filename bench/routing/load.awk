# load.awk — benchmark instances to tab-separated rows for COPY into bench_points:
#   instance  idx(1-based)  x  y  demand  ready  due  service
# Reads TSPLIB (.tsp: NODE_COORD_SECTION), CVRPLIB (.vrp: also CAPACITY, DEMAND_SECTION) and
# Solomon (.txt: the CUSTOMER table, capacity from the VEHICLE table).  Vehicle capacities are
# printed as separate lines "#capacity <instance> <value>", which run.sh splits off.
function base(f) { sub(/.*\//, "", f); sub(/\.[a-z]+$/, "", f); return f }
FNR == 1 { inst = base(FILENAME); section = ""; solomon = (FILENAME ~ /\.txt$/); line = 0 }
{ gsub(/\r/, ""); line++ }
solomon {
	if (prev ~ /NUMBER/ && NF == 2) print "#capacity\t" inst "\t" $2
	prev = $0
	if (NF == 7 && $1 ~ /^[0-9]+$/)
		print inst "\t" ($1 + 1) "\t" $2 "\t" $3 "\t" $4 "\t" $5 "\t" $6 "\t" $7
	next
}
/^CAPACITY/ { v = $0; sub(/.*:/, "", v); gsub(/ /, "", v); print "#capacity\t" inst "\t" v; next }
/^NODE_COORD_SECTION/ { section = "coord"; next }
/^DEMAND_SECTION/ { section = "demand"; next }
/^(DEPOT_SECTION|EOF|TOUR_SECTION)/ { section = ""; next }
section == "coord" && NF >= 3 { x[inst, $1] = $2; y[inst, $1] = $3; n[inst] = $1 > n[inst] ? $1 : n[inst]; next }
section == "demand" && NF >= 2 { d[inst, $1] = $2; next }
END {
	for (key in n)
		for (i = 1; i <= n[key]; i++)
			print key "\t" i "\t" x[key, i] "\t" y[key, i] "\t" ((key, i) in d ? d[key, i] : 0) "\t0\t0\t0"
}
