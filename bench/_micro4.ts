import { encodeTicks } from '../src/protocol/index.js';
import { readFull } from '../src/protocol/packet.js';
const t: any = {tradable:true,mode:'full',instrument_token:408065,exchange:'NSE',last_price:1573.7,last_traded_quantity:7,average_traded_price:1570.37,volume_traded:1192471,total_buy_quantity:1,total_sell_quantity:2,ohlc:{open:1,high:2,low:0.5,close:1.5},change:0,net_change:0,last_trade_time:new Date(1625461887000),oi:0,oi_day_high:0,oi_day_low:0,exchange_timestamp:new Date(1625461887000),depth:{buy:[],sell:[]}};
const frame = encodeTicks(Array.from({length:20},()=>t));
const v = new DataView(frame.buffer);
let sink=0;
function run(fn: () => void) { const t0=performance.now(); let c=0; while (performance.now()-t0<150) { for (let k=0;k<50;k++) fn(); c+=50; } return c*20/((performance.now()-t0)/1000)/1e6; }
const D = new Float64Array(256).fill(100);
function lv(v: DataView, o: number, d: number) { return { quantity: v.getUint32(o), price: v.getInt32(o+4)/d, orders: v.getUint16(o+8) }; }
function noDates(v: DataView, o: number) {
  const token = v.getUint32(o); const seg = token & 0xff; const d = D[seg]!; const last = v.getInt32(o+4)/d; const close = v.getInt32(o+40)/d; const b=o+64, s=o+124;
  const lt = v.getUint32(o+44), et = v.getUint32(o+60);
  return { tradable: seg !== 9, mode: 'full', instrument_token: token, last_price: last, last_traded_quantity: v.getUint32(o+8), average_traded_price: v.getInt32(o+12)/d, volume_traded: v.getUint32(o+16), total_buy_quantity: v.getUint32(o+20), total_sell_quantity: v.getUint32(o+24),
   ohlc: { open: v.getInt32(o+28)/d, high: v.getInt32(o+32)/d, low: v.getInt32(o+36)/d, close }, change: close !== 0 ? (last-close)*100/close : 0,
   last_trade_time: lt, exchange_timestamp: et, oi: v.getUint32(o+48), oi_day_high: v.getUint32(o+52), oi_day_low: v.getUint32(o+56),
   depth: { buy: [lv(v,b,d),lv(v,b+12,d),lv(v,b+24,d),lv(v,b+36,d),lv(v,b+48,d)], sell: [lv(v,s,d),lv(v,s+12,d),lv(v,s+24,d),lv(v,s+36,d),lv(v,s+48,d)] }, net_change: close !== 0 ? last-close : 0, exchange: 'NSE' };
}
function noDepth(v: DataView, o: number) {
  const token = v.getUint32(o); const seg = token & 0xff; const d = D[seg]!; const last = v.getInt32(o+4)/d; const close = v.getInt32(o+40)/d;
  const lt = v.getUint32(o+44), et = v.getUint32(o+60);
  return { tradable: seg !== 9, mode: 'full', instrument_token: token, last_price: last, last_traded_quantity: v.getUint32(o+8), average_traded_price: v.getInt32(o+12)/d, volume_traded: v.getUint32(o+16), total_buy_quantity: v.getUint32(o+20), total_sell_quantity: v.getUint32(o+24),
   ohlc: { open: v.getInt32(o+28)/d, high: v.getInt32(o+32)/d, low: v.getInt32(o+36)/d, close }, change: close !== 0 ? (last-close)*100/close : 0,
   last_trade_time: lt===0?null:new Date(lt*1000), exchange_timestamp: et===0?null:new Date(et*1000), oi: v.getUint32(o+48), oi_day_high: v.getUint32(o+52), oi_day_low: v.getUint32(o+56),
   depth: null, net_change: close !== 0 ? last-close : 0, exchange: 'NSE' };
}
const fns: Record<string, () => void> = {
  current: ()=>{ for (let i=0;i<20;i++) sink += readFull(v, 4+i*186).oi; },
  noDates: ()=>{ for (let i=0;i<20;i++) sink += noDates(v, 4+i*186).oi; },
  noDepth: ()=>{ for (let i=0;i<20;i++) sink += noDepth(v, 4+i*186).oi; },
};
for (const f of Object.values(fns)) for (let i=0;i<2000;i++) f();
const res: Record<string, number[]> = {};
for (let r=0;r<7;r++) for (const [k,f] of Object.entries(fns)) (res[k] ??= []).push(run(f));
for (const [k,a] of Object.entries(res)) { a.sort((x,y)=>x-y); console.log(k.padEnd(8), a[3]!.toFixed(2), 'M/s', a.map(x=>x.toFixed(1)).join(' ')); }
console.log(sink > 0);
