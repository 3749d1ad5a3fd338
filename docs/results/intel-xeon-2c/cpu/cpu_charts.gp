set terminal pngcairo size 900,560
set grid
set key left top
set datafile missing 'NaN'
set output 'speedup_vs_cores.png'
set title 'Throughput speedup against cores (95% intervals; beyond 2 cores: unmeasured)'
set xlabel 'cores'
set ylabel 'speedup'
set xrange [0.5:4.2]
set yrange [0:*]
plot x with lines dashtype 3 title 'linear', 'cpu_charts.dat' index 0 using 1:2:3:4 with yerrorlines title 'cpuset measured', 'cpu_charts.dat' index 1 using 1:2:3:4 with yerrorlines title 'quota measured'
unset xrange
unset yrange
unset title
set output 'capacity.png'
set title 'Equal capacity: weak / strong (95% intervals; 1 = no difference)'
set xlabel ''
set ylabel 'weak / strong'
set xrange [-0.5:3.5]
set yrange [0:*]
set xtics rotate by 0
plot 'cpu_charts.dat' index 3 using 1:3:4:5:xtic(2) with yerrorbars pt 7 ps 1.5 title 'measured', 1 with lines dashtype 2 title 'equal'
unset xrange
unset yrange
unset title
set xtics autofreq
set output 'latency_vs_threads.png'
set title 'One long request against threads per request (95% intervals)'
set xlabel 'threads per request'
set ylabel 'latency (s)'
set logscale x 2
plot 'cpu_charts.dat' index 4 using ($1==2?$2:1/0):3:4:5 with yerrorlines title '2 cores, idle', 'cpu_charts.dat' index 4 using ($1==2?$2:1/0):6:7:8 with yerrorlines title '2 cores, under load'
unset logscale x
unset title
set terminal svg size 900,560 dynamic
set grid
set key left top
set datafile missing 'NaN'
set output 'speedup_vs_cores.svg'
set title 'Throughput speedup against cores (95% intervals; beyond 2 cores: unmeasured)'
set xlabel 'cores'
set ylabel 'speedup'
set xrange [0.5:4.2]
set yrange [0:*]
plot x with lines dashtype 3 title 'linear', 'cpu_charts.dat' index 0 using 1:2:3:4 with yerrorlines title 'cpuset measured', 'cpu_charts.dat' index 1 using 1:2:3:4 with yerrorlines title 'quota measured'
unset xrange
unset yrange
unset title
set output 'capacity.svg'
set title 'Equal capacity: weak / strong (95% intervals; 1 = no difference)'
set xlabel ''
set ylabel 'weak / strong'
set xrange [-0.5:3.5]
set yrange [0:*]
set xtics rotate by 0
plot 'cpu_charts.dat' index 3 using 1:3:4:5:xtic(2) with yerrorbars pt 7 ps 1.5 title 'measured', 1 with lines dashtype 2 title 'equal'
unset xrange
unset yrange
unset title
set xtics autofreq
set output 'latency_vs_threads.svg'
set title 'One long request against threads per request (95% intervals)'
set xlabel 'threads per request'
set ylabel 'latency (s)'
set logscale x 2
plot 'cpu_charts.dat' index 4 using ($1==2?$2:1/0):3:4:5 with yerrorlines title '2 cores, idle', 'cpu_charts.dat' index 4 using ($1==2?$2:1/0):6:7:8 with yerrorlines title '2 cores, under load'
unset logscale x
unset title
