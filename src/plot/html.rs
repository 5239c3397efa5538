//! A self-contained interactive page: the coordinates, colours and labels
//! are inlined (base64 typed arrays), the viewer is a few hundred lines of
//! plain JavaScript drawing into a canvas. Nothing is fetched.

use super::{point_colours, Labels, MAX_LEGEND, PALETTE};

fn b64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let v = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        s.push(T[(v >> 18) as usize & 63] as char);
        s.push(T[(v >> 12) as usize & 63] as char);
        s.push(if c.len() > 1 {
            T[(v >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if c.len() > 2 {
            T[v as usize & 63] as char
        } else {
            '='
        });
    }
    s
}

/// A JSON string literal, safe inside a <script> element.
fn js_str(s: &str) -> String {
    let mut o = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '<' => o.push_str("\\u003c"),
            '>' => o.push_str("\\u003e"),
            '&' => o.push_str("\\u0026"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                o.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The page for an embedding: pan/zoom in 1D and 2D, rotate/zoom/pan in 3D,
/// hover for vertex id and label, legend from `labels`.
pub fn render_html<const D: usize>(y: &[[f64; D]], labels: Option<&Labels>, title: &str) -> String {
    let n = y.len();
    let mut xyz = Vec::with_capacity(n * 12);
    for p in y {
        for k in 0..3 {
            let v = p.get(k).map_or(0.0, |&x| x as f32);
            xyz.extend(v.to_le_bytes());
        }
    }
    let rgb: Vec<u8> = point_colours(n, labels).into_iter().flatten().collect();
    let (names, lab) = match labels {
        Some(l) => (
            format!(
                "[{}]",
                l.names
                    .iter()
                    .map(|s| js_str(s))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            js_str(&b64(&l
                .of
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>())),
        ),
        None => ("null".to_string(), "null".to_string()),
    };
    let legend = match labels {
        Some(l) if l.names.len() <= MAX_LEGEND || l.numeric.is_none() => format!(
            "[{}]",
            l.names
                .iter()
                .take(MAX_LEGEND)
                .enumerate()
                .map(|(i, s)| {
                    let c = PALETTE[i % PALETTE.len()];
                    format!("[{},\"#{:02x}{:02x}{:02x}\"]", js_str(s), c[0], c[1], c[2])
                })
                .collect::<Vec<_>>()
                .join(",")
        ),
        _ => "[]".to_string(),
    };
    TEMPLATE
        .replace("@TITLE@", &html_escape(title))
        .replace("@TITLE_JS@", &js_str(title))
        .replace("@N@", &n.to_string())
        .replace("@D@", &D.to_string())
        .replace("@NAMES@", &names)
        .replace("@LEGEND@", &legend)
        .replace("@LAB@", &lab)
        .replace("@XYZ@", &js_str(&b64(&xyz)))
        .replace("@RGB@", &js_str(&b64(&rgb)))
}

const TEMPLATE: &str = r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
html,body{margin:0;height:100%;overflow:hidden;font:13px/1.3 system-ui,sans-serif;background:#fff}
#c{display:block;width:100vw;height:100vh;cursor:grab}
#tip{position:fixed;background:#fffffff0;border:1px solid #999;padding:2px 6px;pointer-events:none;display:none;white-space:nowrap}
#legend{position:fixed;right:8px;top:8px;background:#ffffffe0;max-height:90vh;overflow:auto;padding:6px 8px;border:1px solid #ddd}
#legend div{cursor:pointer}#legend .off{opacity:.3}
.sw{display:inline-block;width:10px;height:10px;margin-right:6px;vertical-align:-1px}
#info{position:fixed;left:8px;top:6px;color:#333}
#help{position:fixed;left:8px;bottom:6px;color:#777}
</style></head>
<body>
<canvas id="c"></canvas><div id="tip"></div><div id="legend"></div><div id="info"></div><div id="help"></div>
<script>
"use strict";
const TITLE=@TITLE_JS@, N=@N@, D=@D@, NAMES=@NAMES@, LEGEND=@LEGEND@;
function unb64(s){const b=atob(s),u=new Uint8Array(b.length);for(let i=0;i<b.length;i++)u[i]=b.charCodeAt(i);return u.buffer;}
const P=new Float32Array(unb64(@XYZ@)), C=new Uint8Array(unb64(@RGB@));
const LABB=@LAB@, L=LABB===null?null:new Uint32Array(unb64(LABB));
const hidden=new Set();
// Centre and scale to unit radius.
let cx=[0,0,0],r=1e-12;
for(let i=0;i<N;i++)for(let k=0;k<3;k++)cx[k]+=P[3*i+k]/N;
for(let i=0;i<N;i++){let s=0;for(let k=0;k<3;k++){const d=P[3*i+k]-cx[k];s+=d*d;}if(s>r)r=s;}
r=Math.sqrt(r);
// 1D: spread points vertically by label (or a fixed jitter) to make a strip plot.
const Q=new Float32Array(3*N);
for(let i=0;i<N;i++){for(let k=0;k<3;k++)Q[3*i+k]=(P[3*i+k]-cx[k])/r;
 if(D===1){const strip=L?L[i]:0,ns=NAMES?NAMES.length:1;const j=((i*2654435761)>>>0)/4294967296;Q[3*i+1]=ns>1?(strip+0.1+0.8*j)/ns*2-1:(j-0.5)*0.3;}}
const cv=document.getElementById("c"),ctx=cv.getContext("2d"),tip=document.getElementById("tip");
let W=0,H=0,img=null,yaw=0.5,pitch=0.35,zoom=1,panx=0,pany=0;
const SX=new Float32Array(N),SY=new Float32Array(N);
const size=N>200000?1:N>20000?2:N>2000?3:4, alpha=Math.min(0.9,Math.max(0.2,Math.pow(3000/Math.max(N,1),0.3)));
function resize(){W=cv.width=window.innerWidth;H=cv.height=window.innerHeight;img=ctx.createImageData(W,H);draw();}
function draw(){
 const d=img.data;d.fill(255);
 const s=0.45*Math.min(W,H)*zoom,ox=W/2+panx,oy=H/2+pany;
 const cy=Math.cos(yaw),sy=Math.sin(yaw),cp=Math.cos(pitch),sp=Math.sin(pitch);
 for(let i=0;i<N;i++){
  let x=Q[3*i],y=Q[3*i+1],z=Q[3*i+2];
  if(D===3){const x1=cy*x+sy*z,z1=-sy*x+cy*z;const y1=cp*y-sp*z1;x=x1;y=y1;}
  const px=ox+x*s,py=oy-y*s;SX[i]=px;SY[i]=py;
  if(L&&hidden.has(L[i])){SX[i]=-1e9;continue;}
  const x0=Math.round(px-size/2),y0=Math.round(py-size/2);
  for(let v=y0;v<y0+size;v++){if(v<0||v>=H)continue;
   for(let u=x0;u<x0+size;u++){if(u<0||u>=W)continue;
    const o=4*(v*W+u);d[o]+=(C[3*i]-d[o])*alpha;d[o+1]+=(C[3*i+1]-d[o+1])*alpha;d[o+2]+=(C[3*i+2]-d[o+2])*alpha;}}
 }
 ctx.putImageData(img,0,0);
}
function nearest(mx,my){let best=-1,bd=64;for(let i=0;i<N;i++){const dx=SX[i]-mx,dy=SY[i]-my,q=dx*dx+dy*dy;if(q<bd){bd=q;best=i;}}return best;}
let drag=null;
cv.addEventListener("mousedown",e=>{drag={x:e.clientX,y:e.clientY,shift:e.shiftKey};cv.style.cursor="grabbing";});
window.addEventListener("mouseup",()=>{drag=null;cv.style.cursor="grab";});
window.addEventListener("mousemove",e=>{
 if(drag){const dx=e.clientX-drag.x,dy=e.clientY-drag.y;drag.x=e.clientX;drag.y=e.clientY;
  if(D===3&&!drag.shift){yaw+=dx*0.01;pitch=Math.max(-1.57,Math.min(1.57,pitch+dy*0.01));}else{panx+=dx;pany+=dy;}
  tip.style.display="none";requestAnimationFrame(draw);return;}
 const i=nearest(e.clientX,e.clientY);
 if(i<0){tip.style.display="none";return;}
 tip.textContent="vertex "+(i+1)+(L?" \u2014 "+NAMES[L[i]]:"");
 tip.style.left=(e.clientX+12)+"px";tip.style.top=(e.clientY+12)+"px";tip.style.display="block";});
cv.addEventListener("wheel",e=>{e.preventDefault();const f=Math.exp(-e.deltaY*0.001);
 const mx=e.clientX-W/2-panx,my=e.clientY-H/2-pany;panx-=mx*(f-1);pany-=my*(f-1);zoom*=f;requestAnimationFrame(draw);},{passive:false});
cv.addEventListener("dblclick",()=>{yaw=0.5;pitch=0.35;zoom=1;panx=0;pany=0;draw();});
const lg=document.getElementById("legend");
if(LEGEND.length===0)lg.style.display="none";
LEGEND.forEach(([name,col],k)=>{const el=document.createElement("div");const sw=document.createElement("span");sw.className="sw";sw.style.background=col;
 el.appendChild(sw);el.appendChild(document.createTextNode(name));el.title="click to hide or show";
 el.onclick=()=>{if(hidden.has(k))hidden.delete(k);else hidden.add(k);el.classList.toggle("off");draw();};lg.appendChild(el);});
document.getElementById("info").textContent=TITLE;
document.getElementById("help").textContent=(D===3?"drag: rotate, shift+drag: pan":"drag: pan")+", wheel: zoom, double-click: reset, hover: vertex";
window.addEventListener("resize",resize);
resize();
document.body.dataset.ready="1";
document.body.dataset.points=String(N);
</script>
</body></html>
"##;
