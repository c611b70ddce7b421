<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="id_ID" sourcelanguage="en">
  
  
  <context>
    <name>wallboard</name>
    <message>
      <source>7 days</source>
      <translation>7 hari</translation>
    </message>
    <message>
      <source>Abandoned</source>
      <translation>Ditinggalkan penelepon</translation>
    </message>
    <message>
      <source>Answered</source>
      <translation>Dijawab</translation>
    </message>
    <message>
      <source>Answered at Mabes</source>
      <translation>Dijawab di Mabes</translation>
    </message>
    <message>
      <source>Answered at Polda</source>
      <translation>Dijawab di Polda</translation>
    </message>
    <message>
      <source>Answered at Polres</source>
      <translation>Dijawab di Polres</translation>
    </message>
    <message>
      <source>Answered at Polsek</source>
      <translation>Dijawab di Polsek</translation>
    </message>
    <message>
      <source>Call Center 110 — command room board</source>
      <translation>Call Center 110 — layar ruang komando</translation>
    </message>
    <message>
      <source>Call volume</source>
      <translation>Volume panggilan</translation>
    </message>
    <message>
      <source>Caller</source>
      <translation>Penelepon</translation>
    </message>
    <message>
      <source>Calls</source>
      <translation>Panggilan</translation>
    </message>
    <message>
      <source>Calls received</source>
      <translation>Panggilan masuk</translation>
    </message>
    <message>
      <source>Callsign</source>
      <translation>Kode panggil</translation>
    </message>
    <message>
      <source>Closed</source>
      <translation>Selesai</translation>
    </message>
    <message>
      <source>DOWN</source>
      <translation>PUTUS</translation>
    </message>
    <message>
      <source>Dispatched</source>
      <translation>Diberangkatkan</translation>
    </message>
    <message>
      <source>Escalated Polda → Mabes</source>
      <translation>Eskalasi Polda → Mabes</translation>
    </message>
    <message>
      <source>Escalated Polres → Polda</source>
      <translation>Eskalasi Polres → Polda</translation>
    </message>
    <message>
      <source>History not saved since {time}: {reason}</source>
      <translation>Riwayat tidak tersimpan sejak {time}: {reason}</translation>
    </message>
    <message>
      <source>disk full</source>
      <translation>disk penuh</translation>
    </message>
    <message>
      <source>disk quota exceeded</source>
      <translation>kuota disk habis</translation>
    </message>
    <message>
      <source>read-only file system</source>
      <translation>sistem berkas hanya-baca</translation>
    </message>
    <message>
      <source>read-only (the database file or its folder cannot be written)</source>
      <translation>hanya-baca (berkas basis data atau foldernya tidak dapat ditulisi)</translation>
    </message>
    <message>
      <source>permission denied</source>
      <translation>izin ditolak</translation>
    </message>
    <message>
      <source>cannot open the database file (missing, or permission denied)</source>
      <translation>berkas basis data tidak dapat dibuka (tidak ada, atau izin ditolak)</translation>
    </message>
    <message>
      <source>database corrupt</source>
      <translation>basis data rusak</translation>
    </message>
    <message>
      <source>disk I/O error</source>
      <translation>galat I/O disk</translation>
    </message>
    <message>
      <source>OK</source>
      <translation>OK</translation>
    </message>
    <message>
      <source>Cancel</source>
      <translation>Batal</translation>
    </message>
    <message>
      <source>Wrong PINs so far: {failures}.</source>
      <translation>PIN salah sejauh ini: {failures}.</translation>
    </message>
    <message>
      <source>After {free} wrong PINs the exit locks for {delay} s, twice as long each time.</source>
      <translation>Setelah {free} kali PIN salah, keluar dikunci selama {delay} detik, dua kali lebih lama setiap kali.</translation>
    </message>
    <message>
      <source>Too many wrong PINs. Try again in {seconds} s.</source>
      <translation>Terlalu banyak PIN salah. Coba lagi dalam {seconds} detik.</translation>
    </message>
    <message>
      <source>Exit PIN:</source>
      <translation>PIN keluar:</translation>
    </message>
    <message>
      <source>Export CSV…</source>
      <translation>Ekspor CSV…</translation>
    </message>
    <message>
      <source>Export PNG…</source>
      <translation>Ekspor PNG…</translation>
    </message>
    <message>
      <source>Incidents</source>
      <translation>Kejadian</translation>
    </message>
    <message>
      <source>Indonesia — all Polda</source>
      <translation>Indonesia — semua Polda</translation>
    </message>
    <message>
      <source>Kind</source>
      <translation>Jenis</translation>
    </message>
    <message>
      <source>LIVE</source>
      <translation>LANGSUNG</translation>
    </message>
    <message>
      <source>Last fix</source>
      <translation>Posisi terakhir</translation>
    </message>
    <message>
      <source>NO DATA</source>
      <translation>BELUM ADA DATA</translation>
    </message>
    <message>
      <source>No active alerts</source>
      <translation>Tidak ada peringatan</translation>
    </message>
    <message>
      <source>ON TARGET</source>
      <translation>SESUAI TARGET</translation>
    </message>
    <message>
      <source>OVER TARGET</source>
      <translation>LEWAT TARGET</translation>
    </message>
    <message>
      <source>OVERDUE</source>
      <translation>TERLAMBAT</translation>
    </message>
    <message>
      <source>On scene</source>
      <translation>Di TKP</translation>
    </message>
    <message>
      <source>Prank / silent share</source>
      <translation>Porsi iseng / diam</translation>
    </message>
    <message>
      <source>Queue</source>
      <translation>Antrean</translation>
    </message>
    <message>
      <source>Queue and answering tiers</source>
      <translation>Antrean dan tingkat penjawab</translation>
    </message>
    <message>
      <source>Received</source>
      <translation>Diterima</translation>
    </message>
    <message>
      <source>Reference</source>
      <translation>Referensi</translation>
    </message>
    <message>
      <source>Response</source>
      <translation>Respons</translation>
    </message>
    <message>
      <source>Response time: call to first unit on scene</source>
      <translation>Waktu respons: panggilan sampai unit pertama di TKP</translation>
    </message>
    <message>
      <source>Response window:</source>
      <translation>Rentang respons:</translation>
    </message>
    <message>
      <source>STALE</source>
      <translation>TERTUNDA</translation>
    </message>
    <message>
      <source>Status</source>
      <translation>Status</translation>
    </message>
    <message>
      <source>Supervisor</source>
      <translation>Supervisor</translation>
    </message>
    <message>
      <source>Type</source>
      <translation>Tipe</translation>
    </message>
    <message>
      <source>Units</source>
      <translation>Unit</translation>
    </message>
    <message>
      <source>WATCH</source>
      <translation>WASPADA</translation>
    </message>
    <message>
      <source>a call has waited {s} s</source>
      <translation>ada panggilan menunggu {s} detik</translation>
    </message>
    <message>
      <source>acknowledged</source>
      <translation>sudah dikonfirmasi</translation>
    </message>
    <message>
      <source>all calls / 5 min</source>
      <translation>semua panggilan / 5 mnt</translation>
    </message>
    <message>
      <source>answer rule</source>
      <translation>aturan jawab</translation>
    </message>
    <message>
      <source>aspiration</source>
      <translation>aspirasi</translation>
    </message>
    <message>
      <source>available</source>
      <translation>siaga</translation>
    </message>
    <message>
      <source>calls / hour (last 15 min)</source>
      <translation>panggilan / jam (15 mnt terakhir)</translation>
    </message>
    <message>
      <source>calls today</source>
      <translation>panggilan hari ini</translation>
    </message>
    <message>
      <source>dashed: same weekday last week</source>
      <translation>garis putus: hari yang sama minggu lalu</translation>
    </message>
    <message>
      <source>dispatched</source>
      <translation>diberangkatkan</translation>
    </message>
    <message>
      <source>en route</source>
      <translation>dalam perjalanan</translation>
    </message>
    <message>
      <source>feed '{stream}' is down</source>
      <translation>umpan '{stream}' putus</translation>
    </message>
    <message>
      <source>feed '{stream}' is stale</source>
      <translation>umpan '{stream}' tertunda</translation>
    </message>
    <message>
      <source>genuine</source>
      <translation>darurat asli</translation>
    </message>
    <message>
      <source>genuine (on top)</source>
      <translation>darurat asli (paling atas)</translation>
    </message>
    <message>
      <source>genuine / 5 min</source>
      <translation>darurat asli / 5 mnt</translation>
    </message>
    <message>
      <source>genuine today</source>
      <translation>darurat asli hari ini</translation>
    </message>
    <message>
      <source>incidents</source>
      <translation>kejadian</translation>
    </message>
    <message>
      <source>information / complaint</source>
      <translation>informasi / pengaduan</translation>
    </message>
    <message>
      <source>last 24 h</source>
      <translation>24 jam terakhir</translation>
    </message>
    <message>
      <source>last 60 min</source>
      <translation>60 mnt terakhir</translation>
    </message>
    <message>
      <source>last 7 days</source>
      <translation>7 hari terakhir</translation>
    </message>
    <message>
      <source>last hour</source>
      <translation>1 jam terakhir</translation>
    </message>
    <message>
      <source>longest wait</source>
      <translation>tunggu terlama</translation>
    </message>
    <message>
      <source>median</source>
      <translation>median</translation>
    </message>
    <message>
      <source>median, min</source>
      <translation>median, mnt</translation>
    </message>
    <message>
      <source>min</source>
      <translation>mnt</translation>
    </message>
    <message>
      <source>min ago</source>
      <translation>mnt lalu</translation>
    </message>
    <message>
      <source>no history for last week yet</source>
      <translation>belum ada riwayat minggu lalu</translation>
    </message>
    <message>
      <source>on scene</source>
      <translation>di TKP</translation>
    </message>
    <message>
      <source>out of service</source>
      <translation>tidak bertugas</translation>
    </message>
    <message>
      <source>overdue</source>
      <translation>terlambat</translation>
    </message>
    <message>
      <source>page</source>
      <translation>halaman</translation>
    </message>
    <message>
      <source>prank / silent</source>
      <translation>iseng / diam</translation>
    </message>
    <message>
      <source>returning</source>
      <translation>kembali</translation>
    </message>
    <message>
      <source>same weekday last week</source>
      <translation>hari yang sama minggu lalu</translation>
    </message>
    <message>
      <source>since</source>
      <translation>sejak</translation>
    </message>
    <message>
      <source>target</source>
      <translation>target</translation>
    </message>
    <message>
      <source>today</source>
      <translation>hari ini</translation>
    </message>
    <message>
      <source>vs hour before</source>
      <translation>vs jam sebelumnya</translation>
    </message>
    <message>
      <source>waiting now</source>
      <translation>menunggu sekarang</translation>
    </message>
    <message>
      <source>{name}: 90% of responses within {m} min (target {target})</source>
      <translation>{name}: 90% respons dalam {m} mnt (target {target})</translation>
    </message>
    <message>
      <source>{name}: {n} incident(s) overdue, no unit on scene</source>
      <translation>{name}: {n} kejadian terlambat, belum ada unit di TKP</translation>
    </message>
    <message>
      <source>{n} calls escalated to Mabes in 60 min</source>
      <translation>{n} panggilan tereskalasi ke Mabes dalam 60 mnt</translation>
    </message>
    <message>
      <source>{n} calls waiting</source>
      <translation>{n} panggilan menunggu</translation>
    </message>
    <message>
      <source>Answered within {s} s</source>
      <translation>Dijawab dalam {s} detik</translation>
    </message>
    <message>
      <source>Calls:</source>
      <translation>Panggilan:</translation>
    </message>
    <message>
      <source>Could not write the file:</source>
      <translation>Berkas tidak dapat ditulis:</translation>
    </message>
    <message>
      <source>This view is unavailable; see the log.</source>
      <translation>Tampilan ini tidak tersedia; lihat log.</translation>
    </message>
    <message>
      <source>pt</source>
      <translation>poin</translation>
    </message>
    <message>
      <source>s ago</source>
      <translation>detik lalu</translation>
    </message>
    <message>
      <source>same</source>
      <translation>sama</translation>
    </message>
    <message>
      <source>calls per 5 min</source>
      <translation>panggilan per 5 mnt</translation>
    </message>
    <message>
      <source>info / complaint</source>
      <translation>info / pengaduan</translation>
    </message>
    <message>
      <source>last week, same day</source>
      <translation>minggu lalu, hari sama</translation>
    </message>
    <message>
      <source>NO API TOKEN</source>
      <translation>TOKEN API TIDAK ADA</translation>
    </message>
    <message>
      <source>Polres</source>
      <translation>Polres</translation>
    </message>
    <message>
      <source>RECORDING</source>
      <translation>REKAMAN</translation>
    </message>
    <message>
      <source>RECORDING ENDED</source>
      <translation>REKAMAN BERAKHIR</translation>
    </message>
    <message>
      <source>SIMULATED</source>
      <translation>SIMULASI</translation>
    </message>
    <message>
      <source>SIMULATION</source>
      <translation>SIMULASI</translation>
    </message>
    <message>
      <source>SMALL SAMPLE</source>
      <translation>SAMPEL KECIL</translation>
    </message>
    <message>
      <source>TOKEN REJECTED</source>
      <translation>TOKEN DITOLAK</translation>
    </message>
    <message>
      <source>not live</source>
      <translation>bukan siaran langsung</translation>
    </message>
    <message>
      <source>recorded</source>
      <translation>direkam</translation>
    </message>
    <message>
      <source>set $WALLBOARD_API_TOKEN or the OS keyring</source>
      <translation>atur $WALLBOARD_API_TOKEN atau keyring OS</translation>
    </message>
    <message>
      <source>shaded: current 5 min, still filling</source>
      <translation>arsiran: 5 menit berjalan, belum lengkap</translation>
    </message>
    <message>
      <source>simulated dispatch feed: these are not real calls</source>
      <translation>umpan dispatch simulasi: ini bukan panggilan nyata</translation>
    </message>
    <message>
      <source>small sample</source>
      <translation>sampel kecil</translation>
    </message>
    <message>
      <source>the wall is frozen</source>
      <translation>layar dibekukan</translation>
    </message>
    <message>
      <source>{stream} feed is delayed</source>
      <translation>umpan {stream} tertunda</translation>
    </message>
    <message>
      <source>{stream} feed is down</source>
      <translation>umpan {stream} putus</translation>
    </message>
    <message>
      <source>{stream} feed: API token rejected</source>
      <translation>umpan {stream}: token API ditolak</translation>
    </message>
    <message>
      <source>Status from p90 (90% of responses): ON TARGET ≤ {aspiration} min · WATCH ≤ {target} min · OVER TARGET &gt; {target} min or an incident overdue · SMALL SAMPLE &lt; {n} responses · NO DATA: none</source>
      <translation>Status dari p90 (90% respons): SESUAI TARGET ≤ {aspiration} mnt · WASPADA ≤ {target} mnt · LEWAT TARGET &gt; {target} mnt atau ada kejadian terlambat · SAMPEL KECIL &lt; {n} respons · BELUM ADA DATA: belum ada</translation>
    </message>
    <message>
      <source>Available share</source>
      <translation>Porsi siaga</translation>
    </message>
    <message>
      <source>Categorised today</source>
      <translation>Terkategori hari ini</translation>
    </message>
    <message>
      <source>Every open incident has a unit on scene</source>
      <translation>Setiap insiden terbuka sudah ada unit di TKP</translation>
    </message>
    <message>
      <source>FLAGGED</source>
      <translation>DITANDAI</translation>
    </message>
    <message>
      <source>Flag</source>
      <translation>Tanda</translation>
    </message>
    <message>
      <source>In status for</source>
      <translation>Lama di status</translation>
    </message>
    <message>
      <source>Incidents at risk</source>
      <translation>Insiden berisiko</translation>
    </message>
    <message>
      <source>Mute alert sound</source>
      <translation>Bisukan suara peringatan</translation>
    </message>
    <message>
      <source>Nearest available unit</source>
      <translation>Unit siaga terdekat</translation>
    </message>
    <message>
      <source>Number</source>
      <translation>Nomor</translation>
    </message>
    <message>
      <source>Numbers with repeated prank or silent calls</source>
      <translation>Nomor dengan panggilan iseng atau diam berulang</translation>
    </message>
    <message>
      <source>Prank / silent today</source>
      <translation>Iseng / diam hari ini</translation>
    </message>
    <message>
      <source>Prank share</source>
      <translation>Porsi iseng</translation>
    </message>
    <message>
      <source>Prank share per Polres</source>
      <translation>Porsi panggilan iseng per Polres</translation>
    </message>
    <message>
      <source>Prank watch</source>
      <translation>Pantauan panggilan iseng</translation>
    </message>
    <message>
      <source>Prank/silent calls today: {total}, with a location: {n} in {cells} cells of about {km} km</source>
      <translation>Panggilan iseng/diam hari ini: {total}, berlokasi: {n} di {cells} petak sekitar {km} km</translation>
    </message>
    <message>
      <source>Priority</source>
      <translation>Prioritas</translation>
    </message>
    <message>
      <source>Stale position</source>
      <translation>Posisi usang</translation>
    </message>
    <message>
      <source>Time in status</source>
      <translation>Lama di status</translation>
    </message>
    <message>
      <source>Time left</source>
      <translation>Sisa waktu</translation>
    </message>
    <message>
      <source>Today</source>
      <translation>Hari ini</translation>
    </message>
    <message>
      <source>Unit board</source>
      <translation>Papan unit</translation>
    </message>
    <message>
      <source>least available first</source>
      <translation>paling sedikit siaga di atas</translation>
    </message>
    <message>
      <source>most urgent first</source>
      <translation>paling mendesak di atas</translation>
    </message>
    <message>
      <source>no units</source>
      <translation>tidak ada unit</translation>
    </message>
    <message>
      <source>none available nearby</source>
      <translation>tidak ada unit siaga di dekatnya</translation>
    </message>
    <message>
      <source>numbers flagged at {n} or more prank/silent calls in 7 days</source>
      <translation>nomor ditandai pada {n} panggilan iseng/diam atau lebih dalam 7 hari</translation>
    </message>
    <message>
      <source>numbers masked</source>
      <translation>nomor disamarkan</translation>
    </message>
    <message>
      <source>open incidents without a unit on scene</source>
      <translation>insiden terbuka tanpa unit di TKP</translation>
    </message>
    <message>
      <source>over time in status</source>
      <translation>melewati batas waktu status</translation>
    </message>
    <message>
      <source>s</source>
      <translation>dtk</translation>
    </message>
    <message>
      <source>stale position</source>
      <translation>posisi usang</translation>
    </message>
    <message>
      <source>supervisors only</source>
      <translation>khusus supervisor</translation>
    </message>
    <message>
      <source>units available now</source>
      <translation>unit siaga sekarang</translation>
    </message>
    <message>
      <source>{name}: {n} unit(s) dispatched over {m} min without moving off</source>
      <translation>{name}: {n} unit diberangkatkan lebih dari {m} menit tanpa bergerak</translation>
    </message>
    <message>
      <source>{name}: {n} unit(s) on scene over {m} min</source>
      <translation>{name}: {n} unit di TKP lebih dari {m} menit</translation>
    </message>
    <message>
      <source>{name}: {n} unit(s) without a position for over {m} min</source>
      <translation>{name}: {n} unit tanpa posisi lebih dari {m} menit</translation>
    </message>
    <message>
      <source>prank/silent calls today per cell</source>
      <translation>panggilan iseng/diam hari ini per petak</translation>
    </message>
    <message>
      <source>Polres HQ</source>
      <translation>Mapolres</translation>
    </message>
    <message>
      <source>Most escalated to Mabes, today</source>
      <translation>Paling banyak dieskalasi ke Mabes, hari ini</translation>
    </message>
    <message>
      <source>escalated</source>
      <translation>dieskalasi</translation>
    </message>
    <message>
      <source>times</source>
      <translation>waktu</translation>
    </message>
  </context>
  <context>
    <name>MapView</name>
    <message>
      <source>%1 min since call</source>
      <translation>%1 mnt sejak panggilan</translation>
    </message>
    <message>
      <source>Incidents</source>
      <translation>Kejadian</translation>
    </message>
    <message>
      <source>OVERDUE %1 min</source>
      <translation>TERLAMBAT %1 mnt</translation>
    </message>
    <message>
      <source>OVERDUE: no unit on scene</source>
      <translation>TERLAMBAT: belum ada unit di TKP</translation>
    </message>
    <message>
      <source>Polres HQ</source>
      <translation>Mapolres</translation>
    </message>
    <message>
      <source>R2 (motorbike)</source>
      <translation>R2 (sepeda motor)</translation>
    </message>
    <message>
      <source>R4 (car)</source>
      <translation>R4 (mobil)</translation>
    </message>
    <message>
      <source>Units</source>
      <translation>Unit</translation>
    </message>
    <message>
      <source>available</source>
      <translation>siaga</translation>
    </message>
    <message>
      <source>dispatched</source>
      <translation>diberangkatkan</translation>
    </message>
    <message>
      <source>en route</source>
      <translation>dalam perjalanan</translation>
    </message>
    <message>
      <source>incident</source>
      <translation>kejadian</translation>
    </message>
    <message>
      <source>last seen %1 min ago</source>
      <translation>terakhir terlihat %1 mnt lalu</translation>
    </message>
    <message>
      <source>new</source>
      <translation>baru</translation>
    </message>
    <message>
      <source>no recent position</source>
      <translation>tidak ada posisi terbaru</translation>
    </message>
    <message>
      <source>on scene</source>
      <translation>di TKP</translation>
    </message>
    <message>
      <source>out of service</source>
      <translation>tidak bertugas</translation>
    </message>
    <message>
      <source>overdue: no unit on scene</source>
      <translation>terlambat: belum ada unit di TKP</translation>
    </message>
    <message>
      <source>past half the target</source>
      <translation>lewat separuh target</translation>
    </message>
    <message>
      <source>returning</source>
      <translation>kembali</translation>
    </message>
    <message>
      <source>unit on scene</source>
      <translation>unit di TKP</translation>
    </message>
    <message>
      <source>▲ %1 left</source>
      <translation>▲ sisa %1</translation>
    </message>
    <message>
      <source>⚠ OVERDUE %1</source>
      <translation>⚠ TERLAMBAT %1</translation>
    </message>
    <message>
      <source>Legend</source>
      <translation>Legenda</translation>
    </message>
    <message>
      <source>Polda: p90 against the target</source>
      <translation>Polda: p90 terhadap target</translation>
    </message>
    <message>
      <source>on target</source>
      <translation>sesuai target</translation>
    </message>
    <message>
      <source>watch</source>
      <translation>waspada</translation>
    </message>
    <message>
      <source>over target</source>
      <translation>lewat target</translation>
    </message>
    <message>
      <source>no data</source>
      <translation>tidak ada data</translation>
    </message>
    <message>
      <source>p90 %1 min</source>
      <translation>p90 %1 mnt</translation>
    </message>
    <message>
      <source>⚠ %1 overdue</source>
      <translation>⚠ %1 terlambat</translation>
    </message>
    <message>
      <source>%1 units</source>
      <translation>%1 unit</translation>
    </message>
  </context>
</TS>
