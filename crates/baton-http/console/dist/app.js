var I,We,Rt,Y,Se,$e,Ke,_e,Ve,Te,Ce,jt,le=Symbol.for("pv"),he={},ge=[],Ft=/^m(i|n|o|s|text|space)$/,Ie=Array.isArray,Ae=ge.slice,ee=Object.assign;function X(e){e&&e.parentNode&&e.remove()}function ze(e,t,n){var s,a,o,r={},l=arguments.length;for(o in t)o=="key"?s=t[o]:o=="ref"&&typeof e!="function"?a=t[o]:r[o]=t[o];return l>2&&(r.children=l>3?Ae.call(arguments,2):n),re(e,r,s,a,null)}function re(e,t,n,s,a){var o={type:e,props:t,key:n,ref:s,__k:null,__:null,__b:0,__e:null,__c:null,constructor:le,__v:a||++We,__i:-1,__u:0};return!a&&I.vnode&&I.vnode(o),o}function ve(e){return e.children}function me(e,t){this.props=e,this.context=t,this.__g=0}function Z(e,t){if(t==null)return e.__&&Z(e.__,e.__i+1);for(var n;t<e.__k.length;t++)if((n=e.__k[t])&&n.__e)return n.__e;return typeof e.type!="function"||e.props.__P?null:Z(e)}function qt(e){var t,n=e.__v,s=n.__e,a=[],o=[],r=e.__P;r&&((t=ee({constructor:le},n)).__v=n.__v+1,I.vnode&&I.vnode(t),Ne(r,t,n,e.__n,r.namespaceURI,32&n.__u?[s]:null,a,s||Z(n),32&n.__u,o),t.__v=n.__v,t.__.__k[t.__i]=t,et(a,t,o),n.__=n.__e=null,t.__e!=s&&Ye(t))}function Ye(e){if((e=e.__)&&e.__c&&!e.props.__P)return e.__e=null,e.__k.some(function(t){return t&&(e.__e=t.__e)}),Ye(e)}function Je(e){(8&e.__g||(e.__g|=8,Y.push(e),$e++))&&Se==I.debounceRendering||((Se=I.debounceRendering)||queueMicrotask)(Ze)}function Ze(){try{for(var e,t=1;Y.length;)Y.length>t&&Y.sort(Ke),e=Y.shift(),t=Y.length,8&e.__g&&qt(e)}finally{($e=Y.length)&&(Se||queueMicrotask)(Ze)}}function Ge(e,t,n,s,a,o,r,l,d,_,u){var m,p,c,k,D,w,T=s.__k||ge,g=t.length;for(d=Ut(n,t,T,d,g),m=0;m<g;m++)(c=n.__k[m])!=null&&(p=~c.__i&&T[c.__i]||he,c.__i=m,w=Ne(e,c,p,a,o,r,l,d,_,u),k=c.__e,(p.ref!=c.ref||8&p.__u)&&(p.ref&&De(p.ref,null,c,p),c.ref&&u.push(c.ref,c.__c||k,c)),D=D||k,4&c.__u?(d=Qe(c,d,e,!p.__v),p.__e&&(p.__e=null)):typeof c.type=="function"&&w!==void 0?d=w:k&&(d=k.nextSibling),c.__u&=-21);return n.__e=D,d}function Ut(e,t,n,s,a){var o,r,l,d,_,u,m,p,c,k=n.length,D=k,w=0,T=0,g=e.__k=Array(a);for(o=0;o<a;o++)(r=t[o])!=null&&typeof r!="boolean"&&typeof r!="function"?(typeof r!="object"||r.constructor===String?r=g[o]=re(null,r):Ie(r)?r=g[o]=re(ve,{children:r}):r.constructor===le&&r.__b?r=g[o]=re(r.type,r.props,r.key,r.ref,r.__v):g[o]=r,d=o+w,r.__=e,r.__b=e.__b+1,l=null,~(_=r.__i=Ht(r,n,d,D))&&(D--,(l=n[_])&&(l.__u|=2)),l&&l.__v?(r.__u|=16,_==d-1?w--:_==d+1?w++:_!=d&&(_>d?w--:w++,T=1)):(~_||(a>k?w--:a<k&&w++),typeof r.type!="function"&&(r.__u|=4))):g[o]=null;if(T){for(u=[],m=[],o=0;o<a;o++)if((r=g[o])&&16&r.__u){for(w=0,p=u.length;w<p;)u[c=w+p>>1]<r.__i?w=c+1:p=c;u[w]=r.__i,m[o]=w+1}for(w=u.length;o--;)m[o]&&(m[o]==w?w--:g[o].__u|=4)}if(D)for(o=0;o<k;o++)!(l=n[o])||2&l.__u||(l.__e==s&&(s=Z(l)),Pe(l,l));return s}function Qe(e,t,n,s){var a,o,r,l;if(typeof e.type=="function"){if(e.props.__P)return t;if(a=e.__k)for(o=0;o<a.length;o++)a[o]&&(a[o].__=e,t=Qe(a[o],t,n,!1));return t}for(t&&!t.parentNode&&(t=Z(e))&&!t.parentNode&&(t=null),r=e.__e,l=t;l&&l.nodeType==8;)l=l.nextSibling;for(r!=l&&(!s&&n.moveBefore&&r.parentNode?n.moveBefore(r,t):n.insertBefore(r,t||null)),t=r;(t=t&&t.nextSibling)&&t.nodeType==8&&!t.data.startsWith("$s"););return t}function Ht(e,t,n,s){var a,o=e.key,r=e.type,l=t[n],d=l&&!(2&l.__u);if(l===null&&o==null||d&&o==l.key&&r==l.type)return n;if(s>(d?1:0)){for(a=n-1;a>=0;a--)if((l=t[a])&&!(2&l.__u)&&o==l.key&&r==l.type)return a;for(a=n+1;a<t.length;a++)if((l=t[a])&&!(2&l.__u)&&o==l.key&&r==l.type)return a}return-1}function Be(e,t,n){n==null&&(n=""),t[0]=="-"?e.setProperty(t,n):e[t]=n}function pe(e,t,n,s,a){var o,r;if(t=="style")if(typeof n=="string")e.style.cssText=n;else{if(typeof s=="string"&&(e.style.cssText=s=""),s)for(t in s)n&&t in n||Be(e.style,t);if(n)for(t in n)s&&n[t]==s[t]||Be(e.style,t,n[t])}else if(t[0]=="o"&&t[1]=="n")typeof n!="function"&&(n=null),typeof s!="function"&&(s=null),(e.__e||(e.__e={}))[t]=n,n&&s||(r=Ce[t]||(Ce[t]=Jt(t)),(e.__a||(e.__a={}))[t]=Te,o=t!=(t=t.replace(Ve,"$1")),(t=t.slice(2))[0]<"a"&&(t=t.toLowerCase()),n?e.addEventListener(t,r,o):e.removeEventListener(t,r,o));else{if(a=="http://www.w3.org/2000/svg")t=t.replace(/xlink(H|:h)/,"h").replace(/sName$/,"s");else if(t!="width"&&t!="height"&&t!="href"&&t!="list"&&t!="form"&&t!="tabIndex"&&t!="download"&&t!="rowSpan"&&t!="colSpan"&&t!="role"&&t!="popover"&&t in e)try{return void(e[t]=n??"")}catch{}if(typeof n=="function")return;n==null||n===!1&&t[4]!="-"?e.removeAttribute(t):e.setAttribute(t,t=="popover"&&n==1?"":n)}}function Jt(e){return function(t){var n=this.__e;if(n){if(n=n[e],t[_e]==null)t[_e]=Te++;else if(t[_e]<this.__a[e])return;return n(I.event?I.event(t):t)}}}function Ne(e,t,n,s,a,o,r,l,d,_){var u,m,p,c,k,D,w,T,g,S,x,W,J,B,q,b,N,y,f=t.type;if(t.constructor!==le)return null;128&n.__u&&(d=32&n.__u,u=n.__c.__z)&&(t.__u|=d,m=o=[],u.nodeType==8?l=fe(u,o):o.push(u),l=o[0]||l),(u=I.__b)&&u(t);e:if(typeof f=="function"){p=r.length;try{if(T=t.props,g=(u=f.prototype)&&u.render,S=(u=f.contextType)&&s[u.__c],x=u?S?S.props.value:u.__:s,(c=n.__c)?(t.__c=c,2&c.__g&&(c.__g|=1)):(g?t.__c=c=new f(T,x):(t.__c=c=new me(T,x),c.constructor=f,c.render=Wt),S&&S.sub(c),c.state||(c.state={}),c.__n=s,c.__g|=8,c.__h=[],c.__k=[]),g&&(c.__s||(c.__s=c.state),f.getDerivedStateFromProps&&(c.__s==c.state&&(c.__s=ee({},c.__s)),ee(c.__s,f.getDerivedStateFromProps(T,c.__s)))),k=c.props,D=c.state,c.__v=t,n.__c){if(T!==k&&g&&!f.getDerivedStateFromProps&&c.componentWillReceiveProps&&c.componentWillReceiveProps(T,x),t.__v==n.__v&&!(8&c.__g)||!(4&c.__g)&&c.shouldComponentUpdate&&c.shouldComponentUpdate(T,c.__s,x)===!1){t.__v!=n.__v&&(c.props=T,c.state=c.__s,c.__g&=-9),t.__e=n.__e,t.__k=n.__k,t.__k.some(function(h){h&&(h.__=t)}),ge.push.apply(c.__h,c.__k),c.__k=[],c.__h.length&&r.push(c),l=Z(n);break e}c.componentWillUpdate&&c.componentWillUpdate(T,c.__s,x),g&&c.componentDidUpdate&&c.__h.push(function(){c.componentDidUpdate(k,D,w)})}else g&&!f.getDerivedStateFromProps&&c.componentWillMount&&c.componentWillMount(),g&&c.componentDidMount&&c.__h.push(c.componentDidMount);c.context=x,c.props=T,c.__P=e,c.__g&=-5,W=I.__r,J=g?25:0;do c.__g&=-9,W&&W(t),u=c.render(c.props,c.state=c.__s,c.context);while(8&c.__g&&++J<25);g&&(ge.push.apply(c.__h,c.__k),c.__k=[]),c.state=c.__s,c.getChildContext&&(s=ee({},s,c.getChildContext())),g&&n.__c&&c.getSnapshotBeforeUpdate&&(w=c.getSnapshotBeforeUpdate(k,D)),B=u&&u.type===ve&&u.key==null?u.props.children:u,T.__P&&(u=l,a=(e=T.__P).namespaceURI,d=o=null,n.props&&n.props.__P!=e&&(n.__k.some(function(h){h&&Pe(h,h)}),n.__k=null),l=n.__k?Z(n,0):null),l=Ge(e,Ie(B)?B:[B],t,n,s,a,o,r,l,d,_),T.__P&&(t.__e=null,l=u),t.__u&=-161,m&&m.some(X),c.__h.length&&r.push(c),1&c.__g&&(c.__g&=-4)}catch(h){if(r.length=p,t.__v=null,d||o)if(h&&h.then){if(t.__u|=128|d,o){for(~(N=o.indexOf(l||void 0))||(N=o.length);(y=o[N-1])&&y.nodeType==8;)N--;for(;N<o.length;N++)if(y=o[N])if(o[N]=null,q){if(y==b)break}else{if(y.nodeType!=8)break;y.data.startsWith("$s")&&(b=fe(q=y))}}if(!q){for(;l&&l.nodeType==8&&l.nextSibling;)l=l.nextSibling;q=l}(u=fe(q=t.__c.__z||(t.__c.__z=q)))?(t.__e=q,l=u):t.__e=l,l=l&&l.nextSibling}else o&&o.some(X);else t.__e=n.__e;t.__k||(t.__k=n.__k||[]),h&&h.then||Xe(t),I.__e(h,t,n)}}else l=t.__e=Bt(n.__e,t,n,s,a,o,r,d,_,e);return(u=I.diffed)&&u(t),l}function fe(e,t){if(e&&e.nodeType==8&&e.data.startsWith("$s"))for(var n=1;e=e.nextSibling;){if(e.nodeType==8){if(e.data.startsWith("$s"))n++;else if(e.data.startsWith("/$s")&&!--n)return e}t&&t.push(e)}}function Xe(e){e&&(e.__c&&(e.__c.__g|=4),e.__k&&e.__k.some(Xe))}function et(e,t,n){for(var s=0;s<n.length;)De(n[s++],n[s++],n[s++]);I.__c&&I.__c(t,e),e.some(function(a){try{e=a.__h,a.__h=[],e.some(function(o){o.call(a)})}catch(o){I.__e(o,a.__v)}})}function Bt(e,t,n,s,a,o,r,l,d,_){var u,m,p,c,k,D,w,T,g=n.props||he,S=t.props,x=t.type;if(x=="svg"?a="http://www.w3.org/2000/svg":x=="math"?a="http://www.w3.org/1998/Math/MathML":a||(a="http://www.w3.org/1999/xhtml"),o){for(u=0;u<o.length;u++)if((k=o[u])&&(x?k.localName==x:k.nodeType==3)){e=k,o[u]=null;break}}if(!e){if(T=_.ownerDocument||document,!x)return T.createTextNode(S);e=T.createElementNS(a,x,S.is?S:_),l&&(I.__m&&I.__m(t,o),l=!1),o=null}if(x){if(_=x=="template"&&e.content||e,o=x=="textarea"&&S.defaultValue!=null?null:o&&Ae.call(_.childNodes),!l&&o)for(g={},u=0;u<e.attributes.length;u++)g[(k=e.attributes[u]).name]=k.value;for(u in g)k=g[u],u=="dangerouslySetInnerHTML"?p=k:u=="children"||u in S||u=="value"&&"defaultValue"in S||u=="checked"&&"defaultChecked"in S||pe(e,u,null,k,a);for(u in S)k=S[u],u=="children"?c=k:u=="dangerouslySetInnerHTML"?m=k:u=="value"?D=k:u=="checked"?w=k:l&&typeof k!="function"||g[u]===k||pe(e,u,k,g[u],a);m?(l||p&&(m.__html==p.__html||m.__html==e.innerHTML)||(e.innerHTML=m.__html),t.__k=[]):(p&&(e.textContent=""),(x=="foreignObject"||a=="http://www.w3.org/1998/Math/MathML"&&Ft.test(x))&&(a="http://www.w3.org/1999/xhtml"),Ge(_,Ie(c)?c:[c],t,n,s,a,o,r,o?o[0]:n.__k&&Z(n,0),l,d),o&&o.some(X)),l&&x!="textarea"||(u="value",x=="progress"&&D==null?e.removeAttribute(u):D==null||D===e[u]&&(x!="progress"||D)||pe(e,u,D,g[u],a),u="checked",w!=null&&w!=e[u]&&pe(e,u,w,g[u],a))}else g===S||l&&e.data==S||(e.data=S);return e}function De(e,t,n,s){try{typeof e=="function"?t?t.__x=e(t)||1:s&&(s=s.__c||s.__e)&&(t=s.__x)&&(s.__x=null,typeof t=="function"?t():e(null)):e.current=t}catch(a){I.__e(a,n)}}function Pe(e,t,n){var s,a,o,r;if(I.unmount&&I.unmount(e),!(s=e.ref)||s.current&&s.current!=e.__e||De(s,null,t,e),s=e.__c){if(s.componentWillUnmount)try{s.componentWillUnmount()}catch(l){I.__e(l,t)}s.__P=s.__n=null}if(s=e.__k)for(r=0;r<s.length;r++)s[r]&&Pe(s[r],t,typeof e.type!="function"||n&&!e.props.__P);!n&&(s=e.__c)&&(s=s.__z)&&(a=fe(s,o=[]))&&(s==e.__e&&o.some(X),X(a),X(s)),n||X(e.__e),e.__e=e.__c=e.__=null}function Wt(e,t,n){return this.constructor(e,n)}function tt(e,t){var n,s,a,o;I.__&&I.__(e,t),t.nodeType==9&&(t=t.documentElement),s=(n=e&&32&e.__u)?null:t.__k,t.__k=re(ve,{children:[e]}),a=[],o=[],Ne(t,t.__k,s||he,he,t.namespaceURI,s?null:t.firstChild?Ae.call(t.childNodes):null,a,s?s.__e:t.firstChild,n,o),et(a,t.__k,o),t.__k.props.children=null}I={__e:function(e,t,n,s){for(var a,o,r;t=t.__;)if((a=t.__c)&&!(1&a.__g)){a.__g|=4;try{if((r=(o=a.constructor)&&o.getDerivedStateFromError)&&a.setState(o.getDerivedStateFromError(e)),a.componentDidCatch&&(a.componentDidCatch(e,s||{}),r=1),r&&8&a.__g)return void(a.__g|=2)}catch(l){e=l}}throw $e=0,e}},We=0,Rt=function(e){return e!=null&&e.constructor===le},me.prototype.setState=function(e,t){var n=this.__s;n&&n!=this.state||(n=this.__s=ee({},this.state)),typeof e=="function"&&(e=e(ee({},n),this.props)),e&&(ee(n,e),this.__v&&(t&&this.__k.push(t),Je(this)))},me.prototype.forceUpdate=function(e){this.__v&&(this.__g|=4,e&&this.__h.push(e),Je(this))},me.prototype.render=ve,Y=[],$e=0,Ke=function(e,t){return e.__v.__b-t.__v.__b},_e=Symbol(),Ve=/(PointerCapture)$|Capture$/i,Te=0,Ce={},jt=0;var ce,E,Me,nt,Ee=Object.is,ue=0,dt=[],Oe=[],M=I,ot=M.__b,st=M.__r,at=M.diffed,rt=M.__c,lt=M.unmount,it=M.__;function Re(e,t){M.__h&&M.__h(E,e,ue||t),ue=0;var n=E.__H||(E.__H={__:[],__h:[]});return e>=n.__.length&&n.__.push({}),n.__[e]}function $(e){return ue=1,Kt(mt,e)}function Kt(e,t,n){var s=Re(ce++,2);if(s.t=e,!s.__c&&(s.__=[n?n(t):mt(void 0,t),function(o){var r=(s.__N||s.__)[0],l=s.t(r,o);Ee(r,l)||(s.__N=[l,s.__[1]],s.__c.setState({}))}],s.__c=E,!E.__f)){E.__f=!0;var a=E.shouldComponentUpdate;E.shouldComponentUpdate=function(o,r,l){var d=this.__H;if(!d)return!0;var _=!1,u=this.props!=o;if(d.__.some(function(p){p.__N&&(_=!0,Ee(p.__[0],p.__N[0])||(u=!0))}),a){var m=a.call(this,o,r,l);return _?m||u:m}return!_||u}}return s.__}function ne(e,t){var n=Re(ce++,3);!M.__s&&_t(n.__H,t)&&(n.__P=!0,n.__=e,n.u=t,E.__H.__h.push(n))}function je(e){return ue=5,ye(function(){return{current:e}},[])}function ye(e,t){var n=Re(ce++,7);return _t(n.__H,t)&&(n.__=e(),n.__H=t),n.__}function pt(e,t){return ue=8,ye(function(){return e},t)}function Vt(){var e;do{for(;e=Oe.shift();)try{ie(e)}catch(n){M.__e(n,{__:(e=e.__P)&&e.__v})}for(;e=dt.shift();){var t=e.__H;if(e.__P&&t)try{t.__h.some(ie),t.__h.some(Le),t.__h=[]}catch(n){t.__h=[],M.__e(n,e.__v)}}}while(Oe.length)}M.__b=function(e){E=null,ot&&ot(e)},M.__=function(e,t){e&&t.__k&&t.__k.__m&&(e.__m=t.__k.__m),it&&it(e,t)},M.__r=function(e){st&&st(e),ce=0;var t=(E=e.__c).__H;t&&(Me==E?E.__h=[]:(t.__h.some(ie),t.__h.some(Le),ce=0),t.__h=[],t.__.some(function(n){n.__N&&(n.__=n.__N),n.u=n.__N=void 0})),Me=E},M.diffed=function(e){at&&at(e);var t=e.__c;t&&t.__H&&(t.__H.__h.length&&ut(dt.push(t)),t.__H.__.some(function(n){n.u&&(n.__H=n.u)})),Me=E=null},M.__c=function(e,t){t.some(function(n){try{n.__h.some(ie),n.__h=n.__h.filter(function(s){return!s.__||Le(s)})}catch(s){n.__h=[function(){throw s}]}}),rt&&rt(e,t)},M.unmount=function(e){lt&&lt(e);var t,n,s=e.__c;s&&s.__H&&(s.__H.__.some(function(a){try{if(a.__P&&a.__c){if(n===void 0){for(n=e.__;n&&(!n.__c||!n.__c.__P);)n=n.__;n=n&&n.__c}a.__P=n,ut(Oe.push(a))}else ie(a)}catch(o){t=o}}),s.__H=void 0,t&&M.__e(t,s.__v))};var ct=typeof requestAnimationFrame=="function";function zt(e){var t,n=function(){clearTimeout(s),ct&&cancelAnimationFrame(t),setTimeout(e)},s=setTimeout(n,35);ct&&(t=requestAnimationFrame(n))}function ut(e){e!=1&&nt==M.requestAnimationFrame||((nt=M.requestAnimationFrame)||zt)(Vt)}function ie(e){var t=E,n=e.__c;typeof n=="function"&&(e.__c=void 0,n()),E=t}function Le(e){var t=E;e.__c=e.__(),E=t}function _t(e,t){return!e||e.length!=t.length||t.some(function(n,s){return!Ee(n,e[s])})}function mt(e,t){return typeof t=="function"?t(e):t}var Fe="baton.apiKey",oe={key:()=>sessionStorage.getItem(Fe),signIn:e=>sessionStorage.setItem(Fe,e),signOut:()=>sessionStorage.removeItem(Fe)},be=class extends Error{constructor(t,n){super(Yt(t,n)),this.status=t,this.body=n}};function Yt(e,t){let n=t&&typeof t=="object"?t.error||t:null,s=n&&n.message||typeof t=="string"&&t||`HTTP ${e}`,a=n&&n.param;return a?`${a}: ${s}`:s}function ft(e){let t={Authorization:`Bearer ${oe.key()}`,Accept:"application/json"};return e!==void 0&&(t["Content-Type"]="application/json"),t}async function ke(e,t,n,s){let a=await fetch(t,{method:e,headers:ft(n),body:n===void 0?void 0:JSON.stringify(n),signal:s});if(a.status===204)return null;let o=await a.text(),r=null;try{r=o?JSON.parse(o):null}catch{r=o}if(!a.ok)throw new be(a.status,r);return r}var O=(e,t)=>ke("GET",e,void 0,t),F=(e,t)=>ke("POST",e,t),we=(e,t)=>ke("PATCH",e,t),$t=e=>ke("DELETE",e);async function U(e,t=n=>n.id||n._id||n.key){let n=[],s=null;for(let a=0;a<20;a++){let o=e.includes("?")?"&":"?",r=await O(`${e}${o}limit=100${s?`&starting_after=${encodeURIComponent(s)}`:""}`),l=r.data||[];if(n.push(...l),!r.has_more||l.length===0)break;s=t(l[l.length-1])}return n}async function xe(e,t,n,s,a){let o=await fetch(t,{method:e,headers:{...ft(n),Accept:"text/event-stream"},body:n===void 0?void 0:JSON.stringify(n),signal:a});if(!o.ok){let d=await o.text(),_=d;try{_=JSON.parse(d)}catch{}throw new be(o.status,_)}let r=o.body.pipeThrough(new TextDecoderStream).getReader(),l="";for(;;){let{value:d,done:_}=await r.read();if(_)return;l+=d.replace(/\r\n/g,`
`);let u;for(;(u=l.indexOf(`

`))>=0;){let m=l.slice(0,u);l=l.slice(u+2);let p=m.split(`
`).filter(c=>c.startsWith("data:")).map(c=>c.slice(5).trimStart()).join(`
`);if(p){if(p==="[DONE]"){r.cancel().catch(()=>{});return}try{s(JSON.parse(p))}catch(c){if(c instanceof SyntaxError)continue;throw c}}}}}var gt=function(e,t,n,s){var a;t[0]=0;for(var o=1;o<t.length;o++){var r=t[o++],l=t[o]?(t[0]|=r?1:2,n[t[o++]]):t[++o];r===3?s[0]=l:r===4?s[1]=Object.assign(s[1]||{},l):r===5?(s[1]=s[1]||{})[t[++o]]=l:r===6?s[1][t[++o]]+=l+"":r?(a=e.apply(l,gt(e,l,n,["",null])),s.push(a),l[0]?t[0]|=2:(t[o-2]=0,t[o]=a)):s.push(l)}return s},ht=new Map;function vt(e){var t=ht.get(this);return t||(t=new Map,ht.set(this,t)),(t=gt(this,t.get(e)||(t.set(e,t=(function(n){for(var s,a,o=1,r="",l="",d=[0],_=function(p){o===1&&(p||(r=r.replace(/^\s*\n\s*|\s*\n\s*$/g,"")))?d.push(0,p,r):o===3&&(p||r)?(d.push(3,p,r),o=2):o===2&&r==="..."&&p?d.push(4,p,0):o===2&&r&&!p?d.push(5,0,!0,r):o>=5&&((r||!p&&o===5)&&(d.push(o,0,r,a),o=6),p&&(d.push(o,p,0,a),o=6)),r=""},u=0;u<n.length;u++){u&&(o===1&&_(),_(u));for(var m=0;m<n[u].length;m++)s=n[u][m],o===1?s==="<"?(_(),d=[d],o=3):r+=s:o===4?r==="--"&&s===">"?(o=1,r=""):r=s+r[0]:l?s===l?l="":r+=s:s==='"'||s==="'"?l=s:s===">"?(_(),o=1):o&&(s==="="?(o=5,a=r,r=""):s==="/"&&(o<5||n[u][m+1]===">")?(_(),o===3&&(d=d[0]),o=d,(d=d[0]).push(2,0,o),o=0):s===" "||s==="	"||s===`
`||s==="\r"?(_(),o=2):r+=s),o===3&&r==="!--"&&(o=4,d=d[0])}return _(),d})(e)),t),arguments,[])).length>1?t:t[0]}var i=vt.bind(ze);function A(e,t=[]){let[n,s]=$({loading:!0,data:null,error:null}),a=pt(()=>{let o=!0;return s(r=>({...r,loading:!0,error:null})),e().then(r=>o&&s({loading:!1,data:r,error:null}),r=>o&&s({loading:!1,data:null,error:r})),()=>{o=!1}},t);return ne(a,[a]),{...n,reload:a}}function P({state:e,children:t}){return e.error?i`<${K} error=${e.error} />`:e.loading&&!e.data?i`<p class="muted" role="status">Loading…</p>`:t(e.data)}function K({error:e}){return e?i`<p class="error" role="alert">${e.message||String(e)}</p>`:null}var G=e=>JSON.stringify(e,null,2);function de(e,t){try{return e.trim()?JSON.parse(e):void 0}catch(n){throw new Error(`${t} is not valid JSON: ${n.message}`)}}var R=e=>e?new Date(e).toLocaleString():"\u2014",se=e=>e==null?"\u2014":e<1e3?`${Math.round(e)} ms`:`${(e/1e3).toFixed(2)} s`,Q=e=>{let t=e&&typeof e=="object"?e.total:e;return t==null?"\u2014":`$${Number(t).toFixed(t<.01?6:4)}`},V=e=>e==null?"\u2014":Number(e).toLocaleString();function j({title:e,actions:t,children:n}){return i`<section class="page" aria-labelledby="page-title">
    <header class="page-head">
      <h1 id="page-title">${e}</h1>
      <div class="actions">${t}</div>
    </header>
    ${n}
  </section>`}function v({label:e,hint:t,children:n}){return i`<label class="field"><span>${e}</span>${n}${t&&i`<small class="muted">${t}</small>`}</label>`}function z({value:e}){return i`<pre class="json">${typeof e=="string"?e:G(e)}</pre>`}function te({run:e,label:t,kind:n="",disabled:s,onDone:a}){let[o,r]=$(!1),[l,d]=$(null);return i`<span class="action"><button type="button" class=${n} disabled=${o||s} onClick=${async()=>{r(!0),d(null);try{let u=await e();a&&a(u)}catch(u){d(u)}finally{r(!1)}}}>${t}</button>${l&&i`<${K} error=${l} />`}</span>`}function H({onSubmit:e,submit:t,children:n,label:s}){let[a,o]=$(!1),[r,l]=$(null);return i`<form class="form" onSubmit=${async _=>{_.preventDefault(),o(!0),l(null);try{await e()}catch(u){l(u)}finally{o(!1)}}} aria-label=${s}>
    ${n}
    <div class="row"><button type="submit" class="primary" disabled=${a}>${t}</button></div>
    <${K} error=${r} />
  </form>`}var C=encodeURIComponent;function yt(e,t){let n=e.length,s=t.length,a=Array.from({length:n+1},()=>new Uint32Array(s+1));for(let d=n-1;d>=0;d--)for(let _=s-1;_>=0;_--)a[d][_]=e[d]===t[_]?a[d+1][_+1]+1:Math.max(a[d+1][_],a[d][_+1]);let o=[],r=0,l=0;for(;r<n&&l<s;)e[r]===t[l]?(o.push([" ",e[r]]),r++,l++):a[r+1][l]>=a[r][l+1]?o.push(["-",e[r++]]):o.push(["+",t[l++]]);for(;r<n;)o.push(["-",e[r++]]);for(;l<s;)o.push(["+",t[l++]]);return o}var Zt=["key","display_name","role","description","instructions","system_prompt","path","model","fallback_models","settings","memory_stores","knowledge_bases","team_of_agents","skills","variables","engine","output_schema"],Gt=["current_date","retrieve_memory_stores","query_memory_store","write_memory_store","retrieve_knowledge_bases","query_knowledge_base","call_sub_agent"];function qe(e){let t={};for(let n of Zt)e[n]!==void 0&&e[n]!==null&&(t[n]=e[n]);return t}var Qt=()=>({key:"",display_name:"",role:"Assistant",description:"",instructions:"",path:"Default",model:"openai/gpt-4o-mini",settings:{tools:[],tool_approval_required:"respect_tool",max_iterations:10}});function bt({args:e}){return e[0]==="new"?i`<${kt} />`:e[0]?i`<${en} agentKey=${e[0]} />`:i`<${Xt} />`}function Xt(){let e=A(()=>U("/v2/agents")),[t,n]=$("");return i`<${j} title="Agents" actions=${i`<a class="button primary" href="#/agents/new">New agent</a>`}>
    <${v} label="Search agents">
      <input type="search" value=${t} onInput=${s=>n(s.target.value)} placeholder="key, name, description or model" />
    <//>
    <${P} state=${e}>${s=>{let a=t.trim().toLowerCase(),o=s.filter(r=>!a||[r.key,r.display_name,r.description,r.role,JSON.stringify(r.model)].join(" ").toLowerCase().includes(a));return o.length===0?i`<p class="muted">No agents${a?" match":" yet"}.</p>`:i`<div class="table-wrap"><table>
        <thead><tr><th scope="col">Key</th><th scope="col">Model</th><th scope="col">Description</th><th scope="col">Version</th><th scope="col">Updated</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${o.map(r=>i`<tr>
          <td><a href=${`#/agents/${C(r.key)}`}>${r.display_name||r.key}</a>${r.display_name?i` <small class="muted">${r.key}</small>`:""}</td>
          <td>${typeof r.model=="string"?r.model:r.model&&r.model.id}</td>
          <td>${r.description}</td><td>${r.version}</td><td>${R(r.updated)}</td>
          <td><a href=${`#/playground/${C(r.key)}`}>Run</a></td>
        </tr>`)}</tbody></table></div>`}}<//>
  <//>`}function en({agentKey:e}){let t=A(()=>O(`/v2/agents/${C(e)}`),[e]);return i`<${P} state=${t}>${n=>i`
    <${kt} agent=${n} onSaved=${t.reload} />
    <${tn} agentKey=${e} current=${n.version} />
  `}<//>`}function kt({agent:e,onSaved:t}){let n=!!e,[s,a]=$(()=>e?qe(e):Qt()),[o,r]=$("form"),[l,d]=$(""),[_,u]=$(null),[m,p]=$(null),c=A(()=>U("/v2/tools")),k=()=>{d(G(s)),r("json")},D=()=>{try{a(JSON.parse(l)),u(null),r("form")}catch(b){u(new Error(`The JSON is not valid: ${b.message}`))}},w=()=>o==="json"?JSON.parse(l):s,T=async()=>{let b;try{b=w()}catch(N){throw new Error(`The JSON is not valid: ${N.message}`)}if(n){let{key:N,...y}=b;await we(`/v2/agents/${C(e.key)}`,y),p("Saved."),t&&t()}else{let N=await F("/v2/agents",b);location.hash=`#/agents/${C(N.key)}`}},g=b=>N=>a({...s,[b]:N.target.value}),S=s.settings||{},x=(b,N)=>a({...s,settings:{...S,[b]:N}}),W=S.tools||[],J=b=>W.some(N=>N.type===b.type&&(N.key||"")===(b.key||"")),B=b=>x("tools",J(b)?W.filter(N=>!(N.type===b.type&&(N.key||"")===(b.key||""))):[...W,b]),q=typeof s.model=="string"?s.model:s.model&&s.model.id||"";return i`<${j} title=${n?`Agent ${e.key}`:"New agent"} actions=${n&&i`<a class="button" href=${`#/playground/${C(e.key)}`}>Open in playground</a>`}>
    <div class="tabs" role="tablist" aria-label="Editor">
      <button type="button" role="tab" aria-selected=${o==="form"} onClick=${()=>o==="json"&&D()}>Form</button>
      <button type="button" role="tab" aria-selected=${o==="json"} onClick=${()=>o==="form"&&k()}>JSON</button>
    </div>
    <${K} error=${_} />
    <${H} onSubmit=${T} submit=${n?"Save changes":"Create agent"} label="Agent">
      ${o==="json"?i`<${v} label="Agent JSON"><textarea class="code" rows="22" value=${l} onInput=${b=>d(b.target.value)} /><//>`:i`<div class="grid">
          <${v} label="Key"><input name="key" required disabled=${n} value=${s.key} onInput=${g("key")} pattern="[A-Za-z][A-Za-z0-9]*([._\\-][A-Za-z0-9]+)*" /><//>
          <${v} label="Display name"><input name="display_name" value=${s.display_name||""} onInput=${g("display_name")} /><//>
          <${v} label="Role"><input name="role" required value=${s.role} onInput=${g("role")} /><//>
          <${v} label="Model" hint="provider/model, e.g. openai/gpt-4o-mini"><input name="model" required value=${q} onInput=${g("model")} /><//>
          <${v} label="Path" hint="Project/folder"><input name="path" required value=${s.path} onInput=${g("path")} /><//>
          <${v} label="Tool approval">
            <select name="tool_approval_required" value=${S.tool_approval_required||"respect_tool"} onChange=${b=>x("tool_approval_required",b.target.value)}>
              <option value="respect_tool">As each tool says</option><option value="all">Every call</option><option value="none">Never</option>
            </select>
          <//>
          <${v} label="Max iterations"><input name="max_iterations" type="number" min="1" max="100" value=${S.max_iterations??""} onInput=${b=>x("max_iterations",b.target.value===""?void 0:Number(b.target.value))} /><//>
        </div>
        <${v} label="Description"><input name="description" required value=${s.description} onInput=${g("description")} /><//>
        <${v} label="Instructions"><textarea name="instructions" rows="5" required value=${s.instructions} onInput=${g("instructions")} /><//>
        <fieldset class="tools"><legend>Tools</legend>
          ${Gt.map(b=>i`<label class="check"><input type="checkbox" checked=${J({type:b})} onChange=${()=>B({type:b})} /> ${b}</label>`)}
          ${(c.data||[]).map(b=>i`<label class="check"><input type="checkbox" checked=${J({type:b.type,key:b.key})} onChange=${()=>B({type:b.type,key:b.key})} /> ${b.key} <small class="muted">(${b.type})</small></label>`)}
        </fieldset>`}
    <//>
    ${m&&i`<p role="status" class="ok">${m}</p>`}
  <//>`}function tn({agentKey:e,current:t}){let n=A(()=>O(`/v2/agents/${C(e)}/versions`),[e,t]),[s,a]=$(null),[o,r]=$(null);return i`<section class="panel" aria-labelledby="versions-title">
    <h2 id="versions-title">Versions</h2>
    <${P} state=${n}>${l=>{let d=l.data||[],_=p=>d.find(c=>c.version_number===Number(p)),u=_(s??(d[1]||d[0]||{}).version_number),m=_(o??(d[0]||{}).version_number);return i`
        <div class="table-wrap"><table>
          <thead><tr><th scope="col">Version</th><th scope="col">Created</th><th scope="col">Description</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>${d.map(p=>i`<tr>
            <td>${p.version}</td><td>${R(p.created)}</td><td>${p.description}</td>
            <td>${p.live?"live":p.published?"published":"draft"}</td>
            <td>${!p.live&&i`<${te} label="Publish" run=${()=>F(`/v2/agents/${C(e)}/versions/${p.version_number}/publish`)} onDone=${n.reload} />`}</td>
          </tr>`)}</tbody></table></div>
        ${d.length>1&&i`<div class="row">
          <${v} label="Compare"><select value=${u&&u.version_number} onChange=${p=>a(p.target.value)}>${d.map(p=>i`<option value=${p.version_number}>${p.version}</option>`)}</select><//>
          <${v} label="with"><select value=${m&&m.version_number} onChange=${p=>r(p.target.value)}>${d.map(p=>i`<option value=${p.version_number}>${p.version}</option>`)}</select><//>
        </div>
        ${u&&m&&i`<${nn} before=${G(qe(u.agent))} after=${G(qe(m.agent))} />`}`}`}}<//>
  </section>`}function nn({before:e,after:t}){let n=ye(()=>yt(e.split(`
`),t.split(`
`)),[e,t]);return i`<pre class="diff" aria-label="Differences">${n.map(([s,a])=>i`<div class=${s==="+"?"add":s==="-"?"del":""}>${s} ${a}</div>`)}</pre>`}function wt({args:e}){let t=A(()=>U("/v2/agents")),[n,s]=$(e[0]||""),a=n||t.data&&t.data[0]&&t.data[0].key||"";return i`<${j} title="Playground">
    <div class="grid">
      <${v} label="Agent">
        <select name="agent" value=${a} onChange=${o=>s(o.target.value)}>
          ${(t.data||[]).map(o=>i`<option value=${o.key}>${o.display_name||o.key}</option>`)}
        </select>
      <//>
    </div>
    <${K} error=${t.error} />
    ${a?i`<${on} key=${a} agentKey=${a} />`:t.data&&i`<p>Create an agent first: <a href="#/agents/new">New agent</a>.</p>`}
  <//>`}function on({agentKey:e}){let t=je([]),[,n]=$(0),s=()=>n(y=>y+1),[a,o]=$(null),[r,l]=$(null),[d,_]=$(!1),[u,m]=$(null),[p,c]=$(""),[k,D]=$(""),[w,T]=$(""),g=je(null),S=y=>{t.current=[...t.current,y],s()},x=(y,f)=>{t.current=t.current.map(h=>y(h)?{...h,...f(h)}:h),s()},W=y=>{let f=y.data||{};switch(y.type){case"response.started":g.current=f.taskId,o(f.taskId),f.telemetry&&f.telemetry.trace_id&&l(f.telemetry.trace_id);break;case"part.delta":case"part.done":{let h=y.type==="part.done"?f.part:f.delta;if(!h||h.kind!=="text"&&h.kind!=="reasoning")break;let L=h.kind==="text"?h.text:h.reasoning;t.current.some(ae=>ae.partId===f.partId)?x(ae=>ae.partId===f.partId,ae=>({text:y.type==="part.done"?L:ae.text+L})):S({kind:h.kind,partId:f.partId,text:L});break}case"tool.started":S({kind:"tool",id:f.toolCallId,name:f.toolName||f.toolId,args:f.arguments,status:"running"});break;case"tool.done":x(h=>h.kind==="tool"&&h.id===f.toolCallId,()=>({status:"done",result:f.result}));break;case"tool.failed":x(h=>h.kind==="tool"&&h.id===f.toolCallId,()=>({status:"failed",result:f.error}));break;case"tool.review.requested":S({kind:"review",id:f.toolCallId,name:f.toolName||f.toolId,args:f.arguments,decision:null});break;case"tool.review.done":x(h=>h.kind==="review"&&h.id===f.toolCallId,()=>({decision:f.review,sent:!0}));break;case"response.done":f.telemetry&&f.telemetry.trace_id&&l(f.telemetry.trace_id),f.pendingToolCalls&&f.pendingToolCalls.length&&S({kind:"pending",calls:f.pendingToolCalls,answered:!1}),S({kind:"done",finishReason:f.finishReason,usage:f.usage});break;case"response.failed":S({kind:"failed",text:f.error});break}},J=async y=>{_(!0),m(null);try{let f=de(k,"Variables"),h={...y,stream:!0};g.current&&(h.task_id=g.current),f&&(h.variables=f),w.trim()&&(h.memory={entity_id:w.trim()}),await xe("POST",`/v2/agents/${C(e)}/responses`,h,W)}catch(f){m(f)}finally{_(!1)}},B=y=>{y.preventDefault();let f=p.trim();f&&(S({kind:"user",text:f}),c(""),J({message:{role:"user",parts:[{kind:"text",text:f}]}}))},q=(y,f)=>{x(L=>L.kind==="review"&&L.id===y,()=>({decision:f}));let h=t.current.filter(L=>L.kind==="review"&&!L.sent);h.every(L=>L.decision)&&(h.forEach(L=>x(He=>He===L,()=>({sent:!0}))),J({tool_reviews:h.map(L=>({tool_call_id:L.id,review:L.decision}))}))},b=(y,f)=>{x(h=>h===y,()=>({answered:!0})),J({message:{role:"tool",parts:y.calls.map(h=>({kind:"tool_result",tool_call_id:h.id,result:f[h.id]}))}})},N=()=>{t.current=[],g.current=null,o(null),l(null),s()};return i`<div class="chat">
    <div class="row muted small">
      ${a?i`<span>Task <code>${a}</code></span>`:i`<span>A new task starts with the first message.</span>`}
      ${r&&i`<a href=${`#/runs/${r}`}>Open run</a>`}
      ${a&&i`<button type="button" class="link" onClick=${N}>New task</button>`}
    </div>
    <ol class="transcript" aria-live="polite" aria-label="Conversation">
      ${t.current.map(y=>i`<li class=${`msg ${y.kind}`}>${sn(y,q,b,d)}</li>`)}
    </ol>
    ${d&&i`<p class="muted" role="status">Running…</p>`}
    <${K} error=${u} />
    <form class="form" onSubmit=${B} aria-label="Compose">
      <${v} label="Message"><textarea name="message" rows="3" value=${p} onInput=${y=>c(y.target.value)} onKeyDown=${y=>y.key==="Enter"&&(y.ctrlKey||y.metaKey)&&B(y)} /><//>
      <details><summary>Variables and memory</summary>
        <div class="grid">
          <${v} label="Variables (JSON)"><textarea name="variables" class="code" rows="3" placeholder='{"customer": "Ada"}' value=${k} onInput=${y=>D(y.target.value)} /><//>
          <${v} label="Memory entity id"><input name="memory_entity_id" value=${w} onInput=${y=>T(y.target.value)} /><//>
        </div>
      </details>
      <div class="row"><button type="submit" class="primary" disabled=${d}>${a?"Send (continue task)":"Send"}</button></div>
    </form>
  </div>`}function sn(e,t,n,s){switch(e.kind){case"user":return i`<span class="who">You</span><p>${e.text}</p>`;case"text":return i`<span class="who">Agent</span><p class="answer">${e.text}</p>`;case"reasoning":return i`<span class="who">Thinking</span><p class="muted">${e.text}</p>`;case"tool":return i`<span class="who">Tool call</span><p><strong>${e.name}</strong> <span class=${`badge ${e.status}`}>${e.status}</span></p>
        <${z} value=${e.args} />${e.result!==void 0&&i`<p class="muted">Result</p><${z} value=${e.result} />`}`;case"review":return i`<span class="who">Approval needed</span><p><strong>${e.name}</strong> wants to run with</p><${z} value=${e.args} />
        ${e.decision?i`<p class="badge">${e.decision}</p>`:i`<div class="row"><button type="button" class="primary" disabled=${s} onClick=${()=>t(e.id,"approved")}>Approve ${e.name}</button>
              <button type="button" class="danger" disabled=${s} onClick=${()=>t(e.id,"rejected")}>Reject ${e.name}</button></div>`}`;case"pending":return i`<${an} pending=${e} answer=${n} busy=${s} />`;case"done":return i`<p class="muted small">Finished: ${e.finishReason}${e.usage?` \xB7 ${e.usage.total_tokens??"?"} tokens`:""}</p>`;case"failed":return i`<p class="error">Failed: ${e.text}</p>`}return null}function an({pending:e,answer:t,busy:n}){let[s,a]=$({}),[o,r]=$(null);return e.answered?i`<p class="muted small">Results sent for ${e.calls.map(d=>d.function&&d.function.name).join(", ")}.</p>`:i`<form class="form" onSubmit=${d=>{d.preventDefault();try{let _={};for(let u of e.calls)_[u.id]=de(s[u.id]||"null",`The result of ${u.function.name}`);t(e,_)}catch(_){r(_)}}} aria-label="Function results">
    <span class="who">Your functions</span>
    ${e.calls.map(d=>i`<${v} label=${`Result of ${d.function.name}(${d.function.arguments})`}>
      <textarea class="code" rows="2" value=${s[d.id]||""} onInput=${_=>a({...s,[d.id]:_.target.value})} placeholder='{"ok": true}' /><//>`)}
    <div class="row"><button type="submit" class="primary" disabled=${n}>Send results</button></div>
    <${K} error=${o} />
  </form>`}var rn=864e5;function xt(){let e=A(()=>U("/v2/agents")),[t,n]=$({status:"",agent:"",minCost:"",minMs:"",days:"7"}),s=A(()=>{let o=[];t.status&&o.push({field:"status",values:[t.status]}),t.agent&&o.push({field:"agent",values:[t.agent]});let r=new Date(Date.now()+6e4),l=new Date(r-Number(t.days)*rn);return F("/v3/traces/search",{from:l.toISOString(),to:r.toISOString(),filters:o,limit:200})},[t.status,t.agent,t.days]),a=o=>r=>n({...t,[o]:r.target.value});return i`<${j} title="Runs">
    <form class="filters grid" aria-label="Filter runs" onSubmit=${o=>o.preventDefault()}>
      <${v} label="Status"><select value=${t.status} onChange=${a("status")}><option value="">Any</option><option value="ok">OK</option><option value="error">Error</option></select><//>
      <${v} label="Agent"><select value=${t.agent} onChange=${a("agent")}><option value="">Any</option>${(e.data||[]).map(o=>i`<option value=${o.key}>${o.key}</option>`)}</select><//>
      <${v} label="Min cost ($)"><input type="number" min="0" step="any" value=${t.minCost} onInput=${a("minCost")} /><//>
      <${v} label="Min duration (ms)"><input type="number" min="0" value=${t.minMs} onInput=${a("minMs")} /><//>
      <${v} label="Period"><select value=${t.days} onChange=${a("days")}><option value="1">Last day</option><option value="7">Last 7 days</option><option value="30">Last 30 days</option></select><//>
    </form>
    <${P} state=${s}>${o=>{let r=(o.data||[]).filter(l=>(!t.minCost||l.cost&&l.cost.total>=Number(t.minCost))&&(!t.minMs||l.duration_ms>=Number(t.minMs)));return r.length?i`<div class="table-wrap"><table>
        <thead><tr><th scope="col">Started</th><th scope="col">Agent</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Tokens</th><th scope="col">Cost</th><th scope="col">Models</th></tr></thead>
        <tbody>${r.map(l=>i`<tr>
          <td><a href=${`#/runs/${l.trace_id}`}>${R(l.started_at)}</a></td>
          <td>${l.agent&&l.agent.name}</td><td><span class=${`badge ${l.status}`}>${l.status}</span></td>
          <td>${se(l.duration_ms)}</td><td>${V(l.usage&&l.usage.total_tokens)}</td><td>${Q(l.cost)}</td>
          <td>${(l.models||[]).join(", ")}</td>
        </tr>`)}</tbody></table></div>`:i`<p class="muted">No runs match.</p>`}}<//>
  <//>`}function St({id:e}){let t=A(async()=>(await O(`/v3/traces/${C(e)}`)).trace,[e]),n=A(()=>O(`/v3/traces/${C(e)}/spans?limit=1000`),[e]);return i`<${j} title="Run" actions=${i`<a class="button" href="#/runs">All runs</a>`}>
    <${P} state=${t}>${s=>i`
      <dl class="facts">
        <div><dt>Agent</dt><dd>${s.agent&&s.agent.name}</dd></div>
        <div><dt>Status</dt><dd><span class=${`badge ${s.status}`}>${s.status}</span></dd></div>
        <div><dt>Started</dt><dd>${R(s.started_at)}</dd></div>
        <div><dt>Duration</dt><dd>${se(s.duration_ms)}</dd></div>
        <div><dt>Tokens</dt><dd>${V(s.usage&&s.usage.total_tokens)}</dd></div>
        <div><dt>Cost</dt><dd>${Q(s.cost)}</dd></div>
      </dl>
      <section class="panel" aria-labelledby="timeline-title"><h2 id="timeline-title">Timeline</h2>
        <${P} state=${n}>${a=>i`<${cn} spans=${a.data||[]} />`}<//>
      </section>
      ${(s.task_ids||[]).map(a=>i`<${un} agentKey=${s.agent&&s.agent.name} taskId=${a} />`)}
    `}<//>
  <//>`}function ln(e){let t=new Map,n=new Set(e.map(o=>o.span_id));for(let o of e){let r=o.parent_span_id&&n.has(o.parent_span_id)?o.parent_span_id:null;t.has(r)||t.set(r,[]),t.get(r).push(o)}let s=[],a=(o,r)=>{let l=(t.get(o)||[]).sort((d,_)=>Date.parse(d.started_at)-Date.parse(_.started_at));for(let d of l)s.push([d,r]),a(d.span_id,r+1)};return a(null,0),s}function cn({spans:e}){if(!e.length)return i`<p class="muted">No spans recorded.</p>`;let t=Math.min(...e.map(a=>Date.parse(a.started_at))),n=Math.max(...e.map(a=>a.ended_at?Date.parse(a.ended_at):Date.parse(a.started_at)+(a.duration_ms||0))),s=Math.max(n-t,1);return i`<div class="waterfall" role="table" aria-label="Spans">
    <div class="wf-row wf-head" role="row"><span role="columnheader">Span</span><span role="columnheader">Time</span><span role="columnheader">Tokens</span><span role="columnheader">Cost</span></div>
    ${ln(e).map(([a,o])=>{let r=(Date.parse(a.started_at)-t)/s*100,l=Math.max((a.duration_ms||0)/s*100,.5);return i`<div class=${`wf-row type-${a.type}`} role="row">
        <span role="cell" class="wf-name" style=${{paddingLeft:`${o*1}rem`}} title=${a.name}>${a.name}</span>
        <span role="cell" class="wf-track" aria-label=${`${se(a.duration_ms)} from ${se(Date.parse(a.started_at)-t)}`}>
          <span class="wf-bar" style=${{left:`${r}%`,width:`${l}%`}}></span><span class="wf-ms">${se(a.duration_ms)}</span>
        </span>
        <span role="cell">${a.usage?V(a.usage.total_tokens):""}</span>
        <span role="cell">${a.cost?Q(a.cost):""}</span>
      </div>`})}
  </div>`}function un({agentKey:e,taskId:t}){let n=A(()=>O(`/v2/agents/${C(e)}/responses/${C(t)}`),[e,t]),s=A(async()=>{let a=[],o=new AbortController,r=setTimeout(()=>o.abort(),5e3);try{await xe("GET",`/v2/agents/${C(e)}/responses/${C(t)}/stream`,void 0,l=>a.push(l),o.signal)}catch(l){if(l.name!=="AbortError")throw l}finally{clearTimeout(r)}return a},[e,t]);return i`<section class="panel" aria-label=${`Task ${t}`}>
    <h2>Task <code>${t}</code></h2>
    <${P} state=${n}>${a=>i`<p>State: <span class="badge">${a.state||a.status}</span>${a.finish_reason?` \xB7 ${a.finish_reason}`:""}</p>`}<//>
    <${P} state=${s}>${a=>i`
      <h3>Messages</h3>
      <ol class="transcript">${dn(a).map(o=>i`<li class=${`msg ${o.kind}`}><span class="who">${o.who}</span>
        ${o.text!==void 0?i`<p>${o.text}</p>`:i`<${z} value=${o.value} />`}</li>`)}</ol>
      <details class="events-box"><summary>Events (${a.length})</summary>
        <ol class="events">${a.map(o=>i`<li><code>${o.type}</code> <small class="muted">${o.timestamp}</small>${o.data&&Object.keys(o.data).length?i`<${z} value=${o.data} />`:""}</li>`)}</ol>
      </details>`}<//>
  </section>`}function dn(e){let t=[];for(let{type:n,data:s={}}of e)n==="part.done"&&s.part&&s.part.kind==="text"?t.push({kind:"text",who:"Agent",text:s.part.text}):n==="tool.started"?t.push({kind:"tool",who:`Tool call: ${s.toolName||s.toolId}`,value:s.arguments}):n==="tool.done"?t.push({kind:"tool",who:`Tool result: ${s.toolId}`,value:s.result}):n==="tool.failed"?t.push({kind:"failed",who:`Tool failed: ${s.toolId}`,text:s.error}):n==="tool.review.requested"?t.push({kind:"review",who:`Approval asked: ${s.toolName||s.toolId}`,value:s.arguments}):n==="tool.review.done"?t.push({kind:"review",who:`Review: ${s.toolId}`,text:s.review}):n==="response.failed"&&t.push({kind:"failed",who:"Failed",text:s.error});return t}var Ct={cron:"0 9 * * 1-5",interval:"@every 6h",once:"@at 2030-01-01T09:00:00Z"};function Tt({args:e}){let t=A(()=>U("/v2/agents")),[n,s]=$(e[0]||""),a=n||t.data&&t.data[0]&&t.data[0].key||"";return i`<${j} title="Schedules">
    <${v} label="Agent">
      <select name="agent" value=${a} onChange=${o=>s(o.target.value)}>
        ${(t.data||[]).map(o=>i`<option value=${o.key}>${o.display_name||o.key}</option>`)}
      </select>
    <//>
    ${a&&i`<${pn} key=${a} agentKey=${a} />`}
  <//>`}function pn({agentKey:e}){let t=A(()=>O(`/v3/agents/${C(e)}/schedules`),[e]),[n,s]=$(null);return i`
    <${fn} agentKey=${e} onCreated=${t.reload} />
    <section class="panel" aria-labelledby="schedules-title"><h2 id="schedules-title">Schedules of ${e}</h2>
    <${P} state=${t}>${a=>a.schedules.length===0?i`<p class="muted">None yet.</p>`:i`<div class="table-wrap"><table>
      <thead><tr><th scope="col">Name</th><th scope="col">Cadence</th><th scope="col">State</th><th scope="col">Next run</th><th scope="col">Fired</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${a.schedules.map(o=>i`<tr>
        <td>${o.display_name||o._id}</td><td><code>${o.expression}</code> <small class="muted">${o.type}</small></td>
        <td><span class=${`badge ${o.is_active?"ok":""}`}>${o.is_active?"active":"paused"}</span></td>
        <td>${R(o.next_run_at)}</td><td>${o.trigger_count}</td>
        <td class="row">
          <${te} label=${o.is_active?"Pause":"Resume"} run=${()=>we(`/v3/agents/${C(e)}/schedules/${o._id}`,{is_active:!o.is_active})} onDone=${t.reload} />
          <${te} label="Trigger now" disabled=${!o.is_active} run=${()=>F(`/v3/agents/${C(e)}/schedules/${o._id}/execution`)} onDone=${()=>s(o._id+Date.now())} />
          <button type="button" onClick=${()=>s(n&&n.startsWith(o._id)?null:o._id)}>History</button>
        </td></tr>
        ${n&&n.startsWith(o._id)&&i`<tr><td colspan="6"><${_n} key=${n} agentKey=${e} id=${o._id} /></td></tr>`}`)}
      </tbody></table></div>`}<//>
    </section>`}function _n({agentKey:e,id:t}){let n=A(()=>O(`/v3/agents/${C(e)}/schedules/${t}/executions`),[t]);return i`<${P} state=${n}>${s=>s.executions.length===0?i`<p class="muted">No executions yet.</p>`:i`<ul class="history">
    ${s.executions.map(a=>i`<li>${R(a.fired_at)} · ${a.manual?"manual":"scheduled"} · <span class="badge">${a.state||"gone"}</span> · task <code>${a.task_id}</code></li>`)}
  </ul>`}<//>`}function mn(e,t){let[n,s]=$({firings:[],error:null});return ne(()=>{if(!t.trim())return s({firings:[],error:null});let a=setTimeout(()=>{F("/v3/schedules/preview",{type:e,expression:t}).then(o=>s({firings:o.next_run_at,error:null}),o=>s({firings:[],error:o}))},250);return()=>clearTimeout(a)},[e,t]),n}function fn({agentKey:e,onCreated:t}){let[n,s]=$("cron"),[a,o]=$(Ct.cron),[r,l]=$(""),[d,_]=$(""),u=mn(n,a);return i`<section class="panel" aria-labelledby="new-schedule-title"><h2 id="new-schedule-title">New schedule</h2>
    <${H} onSubmit=${async()=>{await F(`/v3/agents/${C(e)}/schedules`,{type:n,expression:a,display_name:d||void 0,payload:{input:r||void 0}}),_(""),l(""),t()}} submit="Create schedule" label="New schedule">
      <div class="grid">
        <${v} label="Type">
          <select name="type" value=${n} onChange=${p=>{s(p.target.value),o(Ct[p.target.value])}}>
            <option value="cron">Cron</option><option value="interval">Interval</option><option value="once">Once</option>
          </select>
        <//>
        <${v} label="Expression" hint="UTC. Cron (5 or 6 fields, @daily), @every 6h, or @at 2030-01-01T09:00:00Z">
          <input name="expression" required value=${a} onInput=${p=>o(p.target.value)} />
        <//>
        <${v} label="Name"><input name="display_name" value=${d} onInput=${p=>_(p.target.value)} /><//>
      </div>
      <${v} label="Message each firing sends"><textarea name="input" rows="2" value=${r} onInput=${p=>l(p.target.value)} /><//>
      <div class="preview" aria-live="polite">
        <h3>Next firings</h3>
        ${u.error?i`<p class="error">${u.error.message}</p>`:i`<ol class="firings">${u.firings.map(p=>i`<li><time datetime=${p}>${R(p)}</time> <small class="muted">${p}</small></li>`)}</ol>`}
      </div>
    <//>
  </section>`}function Ue({title:e,path:t,example:n,columns:s,extra:a}){let o=A(()=>U(t)),[r,l]=$(G(n)),[d,_]=$(null),u=async()=>{await F(t,de(r,"The body")),o.reload()};return i`<${j} title=${e}>
    <${P} state=${o}>${m=>m.length===0?i`<p class="muted">None yet.</p>`:i`<div class="table-wrap"><table>
      <thead><tr>${s.map(([p])=>i`<th scope="col">${p}</th>`)}${a&&i`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
      <tbody>${m.map(p=>i`<tr>${s.map(([,c])=>i`<td>${c(p)}</td>`)}
        ${a&&i`<td><button type="button" onClick=${()=>_(d===p._id?null:p._id)}>${d===p._id?"Close":"Open"}</button></td>`}</tr>
        ${a&&d===p._id&&i`<tr><td colspan=${s.length+1}>${a(p)}</td></tr>`}`)}</tbody></table></div>`}<//>
    <details class="panel"><summary>Create ${e.toLowerCase().replace(/s$/,"")} from JSON</summary>
      <${H} onSubmit=${u} submit="Create" label=${`Create ${e}`}>
        <${v} label="Body (JSON)"><textarea class="code" rows="10" value=${r} onInput=${m=>l(m.target.value)} /><//>
      <//>
    </details>
  <//>`}var It=()=>i`<${Ue} title="Tools" path="/v2/tools"
  example=${{key:"weather",path:"Default",type:"function",description:"Current weather for a city",function:{name:"weather",parameters:{type:"object",properties:{city:{type:"string"}},required:["city"]}}}}
  columns=${[["Key",e=>e.key],["Type",e=>e.type],["Description",e=>e.description],["Approval",e=>e.requires_approval?"required":""],["Updated",e=>R(e.updated)]]} />`,At=()=>i`<${Ue} title="Memory stores" path="/v2/memory-stores"
  example=${{key:"customers",description:"What customers told us",embedding_config:{model:"openai/text-embedding-3-small"}}}
  columns=${[["Key",e=>e.key],["Description",e=>e.description],["Embedding",e=>e.embedding_config&&e.embedding_config.model],["Created",e=>R(e.created)]]}
  extra=${e=>i`<${$n} store=${e.key} />`} />`;function $n({store:e}){let t=A(()=>O(`/v2/memory-stores/${C(e)}/memories?limit=50`),[e]);return i`<${P} state=${t}>${n=>(n.data||[]).length===0?i`<p class="muted">No memories yet.</p>`:i`<ul>${n.data.map(s=>i`<li><code>${s.entity_id||s._id}</code> <small class="muted">${R(s.updated||s.created)}</small></li>`)}</ul>`}<//>`}var Nt=()=>i`<${Ue} title="Knowledge bases" path="/v2/knowledge"
  example=${{key:"handbook",path:"Default",description:"The staff handbook",embedding_model:"openai/text-embedding-3-small"}}
  columns=${[["Key",e=>e.key],["Description",e=>e.description],["Embedding",e=>e.embedding_model],["Created",e=>R(e.created)]]}
  extra=${e=>i`<${hn} kb=${e._id} />`} />`;function hn({kb:e}){let[t,n]=$(""),[s,a]=$(""),[o,r]=$(null),[l,d]=$(""),[_,u]=$(null),m=async()=>{let c=await F(`/v2/knowledge/${C(e)}/datasources`,{display_name:t||"Pasted text",text:s});r(`Added \u201C${c.display_name}\u201D.`),a("")},p=async()=>u((await F(`/v2/knowledge/${C(e)}/search`,{query:l,top_k:5})).matches);return i`<div class="grid">
    <${H} onSubmit=${m} submit="Add text" label="Add text">
      <${v} label="Name"><input value=${t} onInput=${c=>n(c.target.value)} /><//>
      <${v} label="Text"><textarea rows="4" required value=${s} onInput=${c=>a(c.target.value)} /><//>
      ${o&&i`<p role="status" class="ok">${o}</p>`}
    <//>
    <${H} onSubmit=${p} submit="Search" label="Search">
      <${v} label="Query"><input type="search" required value=${l} onInput=${c=>d(c.target.value)} /><//>
      ${_&&i`<ol>${_.map(c=>i`<li><p>${c.text}</p><small class="muted">score ${c.scores?G(c.scores):c.score}</small></li>`)}</ol>`}
    <//>
  </div>`}function Dt(){let e=A(()=>O("/v2/api-keys")),[t,n]=$(""),[s,a]=$("run"),[o,r]=$("default"),[l,d]=$(null);return i`<${j} title="API keys">
    <p class="muted">Managing keys needs an admin key.</p>
    <${P} state=${e}>${u=>i`<div class="table-wrap"><table>
      <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Project</th><th scope="col">Scope</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${u.data.map(m=>i`<tr><td>${m.name}</td><td><code>${m.prefix}</code></td><td>${m.project_id}</td><td>${m.admin?"admin":m.scope}</td><td>${R(m.created)}</td>
        <td><${te} kind="danger" label=${`Revoke ${m.name}`} run=${()=>confirm(`Revoke ${m.name}?`)&&$t(`/v2/api-keys/${C(m.id)}`)} onDone=${e.reload} /></td></tr>`)}</tbody>
    </table></div>`}<//>
    <section class="panel" aria-labelledby="new-key-title"><h2 id="new-key-title">New key</h2>
      <${H} onSubmit=${async()=>{let u=await F("/v2/api-keys",{name:t,project_id:o,scope:s});d(u.key),n(""),e.reload()}} submit="Create key" label="New key">
        <div class="grid">
          <${v} label="Name"><input required value=${t} onInput=${u=>n(u.target.value)} /><//>
          <${v} label="Project"><input required value=${o} onInput=${u=>r(u.target.value)} /><//>
          <${v} label="Scope"><select value=${s} onChange=${u=>a(u.target.value)}><option value="run">run</option><option value="project">project</option></select><//>
        </div>
      <//>
      ${l&&i`<div role="status" class="ok"><p>Copy the key now; it is not shown again.</p><${z} value=${l} /></div>`}
    </section>
  <//>`}var Ot=864e5;function gn(e){let t=new Date(Date.now()+6e4);return`from=${encodeURIComponent(new Date(t-e*Ot).toISOString())}&to=${encodeURIComponent(t.toISOString())}`}function Lt(){let[e,t]=$(30),n=r=>()=>O(`/v3/usage?group_by=${r}&${gn(e)}`),s=A(n("day"),[e]),a=A(n("agent"),[e]),o=A(n("model"),[e]);return i`<${j} title="Usage">
    <${v} label="Period">
      <select value=${e} onChange=${r=>t(Number(r.target.value))}><option value="7">Last 7 days</option><option value="30">Last 30 days</option><option value="90">Last 90 days</option></select>
    <//>
    <${P} state=${s}>${r=>i`
      <dl class="facts">
        <div><dt>Cost</dt><dd>${Q(r.total.cost)}</dd></div>
        <div><dt>Tokens</dt><dd>${V(r.total.total_tokens)}</dd></div>
        <div><dt>Model calls</dt><dd>${V(r.total.count)}</dd></div>
      </dl>
      <div class="grid charts">
        <${Mt} title="Cost per day" rows=${Pt(r.data,e)} value=${l=>vn(l)} format=${Q} />
        <${Mt} title="Tokens per day" rows=${Pt(r.data,e)} value=${l=>l.total_tokens} format=${V} />
      </div>`}<//>
    <div class="grid charts">
      <${P} state=${a}>${r=>i`<${Et} title="By agent" rows=${r.data} />`}<//>
      <${P} state=${o}>${r=>i`<${Et} title="By model" rows=${r.data} />`}<//>
    </div>
  <//>`}function Pt(e,t){let n=new Map(e.map(a=>[String(a.key).slice(0,10),a])),s=[];for(let a=t-1;a>=0;a--){let o=new Date(Date.now()-a*Ot).toISOString().slice(0,10);s.push(n.get(o)||{key:o,cost:0,total_tokens:0})}return s}var vn=e=>(e.cost&&typeof e.cost=="object"?e.cost.total:e.cost)||0;function Mt({title:e,rows:t,value:n,format:s}){let a=Math.max(...t.map(n),0)||1,o=600,r=160,l=t.length?o/t.length:o;return i`<figure class="panel chart">
    <figcaption>${e}</figcaption>
    ${t.every(d=>!n(d))?i`<p class="muted">No usage in this period.</p>`:i`<svg viewBox=${`0 0 ${o} ${r+20}`} role="img" aria-label=${`${e}: ${t.map(d=>`${d.key} ${s(n(d))}`).join(", ")}`}>
          ${t.map((d,_)=>{let u=n(d)/a*r;return i`<g><rect x=${_*l+l*.15} y=${r-u} width=${l*.7} height=${u} class="bar"><title>${d.key}: ${s(n(d))}</title></rect>
              ${_%Math.ceil(t.length/8)===0&&i`<text x=${_*l+l/2} y=${r+14} text-anchor="middle" class="tick">${String(d.key).slice(5,10)}</text>`}</g>`})}
        </svg>`}
  </figure>`}function Et({title:e,rows:t}){let n=Math.max(...t.map(s=>s.total_tokens),0)||1;return i`<figure class="panel chart">
    <figcaption>${e}</figcaption>
    ${t.length===0?i`<p class="muted">No usage in this period.</p>`:i`<table>
      <thead><tr><th scope="col">Name</th><th scope="col">Tokens</th><th scope="col">Cost</th></tr></thead>
      <tbody>${t.map(s=>i`<tr><td>${s.key||"\u2014"}</td>
        <td><span class="hbar" style=${{width:`${s.total_tokens/n*100}%`}}></span>${V(s.total_tokens)}</td><td>${Q(s.cost)}</td></tr>`)}</tbody>
    </table>`}
  </figure>`}var yn=[["agents","Agents"],["playground","Playground"],["runs","Runs"],["schedules","Schedules"],["tools","Tools"],["memory","Memory"],["knowledge","Knowledge"],["keys","API keys"],["usage","Usage"]];function bn(){let e=()=>(location.hash.replace(/^#\/?/,"")||"agents").split("/").map(decodeURIComponent),[t,n]=$(e);return ne(()=>{let s=()=>n(e());return addEventListener("hashchange",s),()=>removeEventListener("hashchange",s)},[]),t}function kn({onIn:e}){let[t,n]=$("");return i`<main class="signin">
    <h1>Baton</h1>
    <p class="muted">Sign in with an API key. It is kept in this tab's session storage only.</p>
    <${H} onSubmit=${async()=>{oe.signIn(t.trim());try{await O("/v2/agents?limit=1"),e()}catch(a){throw oe.signOut(),a.status===401?new Error("This API key was not accepted."):a}}} submit="Sign in" label="Sign in">
      <${v} label="API key">
        <input type="password" name="api_key" autocomplete="current-password" required value=${t} onInput=${a=>n(a.target.value)} />
      <//>
    <//>
  </main>`}function wn({route:e}){let[t,...n]=e;switch(t){case"agents":return i`<${bt} args=${n} />`;case"playground":return i`<${wt} args=${n} />`;case"runs":return n[0]?i`<${St} id=${n[0]} />`:i`<${xt} />`;case"schedules":return i`<${Tt} args=${n} />`;case"tools":return i`<${It} />`;case"memory":return i`<${At} />`;case"knowledge":return i`<${Nt} />`;case"keys":return i`<${Dt} />`;case"usage":return i`<${Lt} />`;default:return i`<p>No page here. <a href="#/agents">Agents</a></p>`}}function xn(){let[e,t]=$(!!oe.key()),n=bn();if(!e)return i`<${kn} onIn=${()=>t(!0)} />`;let s=()=>{oe.signOut(),t(!1)};return i`<div class="shell">
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <strong class="brand">Baton</strong>
      <nav aria-label="Sections">
        <ul>
          ${yn.map(([a,o])=>i`<li><a href=${`#/${a}`} aria-current=${n[0]===a?"page":void 0}>${o}</a></li>`)}
        </ul>
      </nav>
      <button type="button" class="link" onClick=${s}>Sign out</button>
    </header>
    <main id="main" tabindex="-1"><${wn} route=${n} /></main>
  </div>`}tt(i`<${xn} />`,document.getElementById("app"));
