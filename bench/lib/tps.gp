# TPS by client count, select-only (pgbench -S), one panel per protocol.
# gnuplot -e "datafile='tps.dat'; outfile='tps.png'; subtitle='...'" bench/lib/tps.gp
if (!exists("subtitle")) subtitle = ""
set terminal pngcairo size 1500,520 font "sans,10"
set output outfile
set datafile missing "NaN"
set logscale x 2
set xrange [0.8:260]
set xtics (1, 10, 50, 200)
set yrange [0:*]
set grid
set key top left
set xlabel "clients (pgbench -S, -j 2)"
set ylabel "TPS (median of rounds)"
set multiplot layout 1,3 title "PgFleet vs PgBouncer vs direct PostgreSQL: select-only TPS by client count  ".subtitle
protocols = "simple extended prepared"
do for [i=1:3] {
  set title sprintf("-M %s", word(protocols, i))
  plot datafile index (i-1) using 1:2 with linespoints lw 2 pt 7 title "direct", \
       ''       index (i-1) using 1:3 with linespoints lw 2 pt 5 title "PgBouncer", \
       ''       index (i-1) using 1:4 with linespoints lw 2 pt 9 title "PgFleet"
}
unset multiplot
