set terminal pngcairo size 1500,520 font "sans,10"
set output "tps.png"
set datafile missing "NaN"
set logscale x 2
set xrange [0.8:260]
set xtics (1, 10, 50, 200)
set yrange [0:*]
set grid
set key top right
set xlabel "clients (pgbench -S, -j 2)"
set ylabel "TPS (median of rounds)"
set multiplot layout 1,3 title "Select-only TPS by client count: direct PostgreSQL, PgBouncer (transaction), PgFleet (transaction)\n20261202-035628"
set title "-M simple"
plot "tps.dat" index 0 using 1:2 with linespoints lw 2 pt 7 lc rgb "#7b3294" title "direct PostgreSQL", "tps.dat" index 0 using 1:3 with linespoints lw 2 pt 5 lc rgb "#008837" title "PgBouncer 1.24.1", "tps.dat" index 0 using 1:5 with linespoints lw 2 pt 9 lc rgb "#e66101" title "PgFleet (shipped defaults, 1 event loops)"
set title "-M extended"
plot "tps.dat" index 1 using 1:2 with linespoints lw 2 pt 7 lc rgb "#7b3294" title "direct PostgreSQL", "tps.dat" index 1 using 1:3 with linespoints lw 2 pt 5 lc rgb "#008837" title "PgBouncer 1.24.1", "tps.dat" index 1 using 1:5 with linespoints lw 2 pt 9 lc rgb "#e66101" title "PgFleet (shipped defaults, 1 event loops)"
set title "-M prepared"
plot "tps.dat" index 2 using 1:2 with linespoints lw 2 pt 7 lc rgb "#7b3294" title "direct PostgreSQL", "tps.dat" index 2 using 1:3 with linespoints lw 2 pt 5 lc rgb "#008837" title "PgBouncer 1.24.1", "tps.dat" index 2 using 1:5 with linespoints lw 2 pt 9 lc rgb "#e66101" title "PgFleet (shipped defaults, 1 event loops)"
unset multiplot
