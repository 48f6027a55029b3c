; lanchat's Windows installer, made on Linux with makensis (NSIS 3):
;
;   makensis -DVERSION=0.1.0 -DEXE=target/x86_64-pc-windows-gnu/release/lanchat.exe \
;            -DOUT=target/package/lanchat-0.1.0-setup.exe packaging/windows/lanchat.nsi
;
; scripts/package.sh runs this. The icon (lanchat.ico) and the first and last
; pages' picture (wizard.bmp) are written by
; `python3 packaging/windows/make_images.py`.
;
; For the current user (the default, no administrator rights) it installs to
; %LOCALAPPDATA%\Programs\lanchat; for all users (administrators) to
; C:\Program Files\lanchat, and then also allows lanchat in Windows Firewall.
; Silent: `lanchat-setup.exe /S` (current user), `/S /AllUsers`, and
; `/Desktop`, `/Autostart` tick those components. `/D=C:\path` (last on the
; line) picks the folder.
;
; The uninstaller keeps the user's history and settings (%APPDATA%\lanchat)
; unless its "Also delete my chat history and settings" is ticked or it is
; given `/RemoveData`. It removes only the files it installed.
;
; Paths given with -D should be absolute: makensis works in this folder.

Unicode true
; 64-bit: C:\Program Files, the 64-bit registry view, and it runs on a
; 64-bit-only Wine.
Target amd64-unicode

!ifndef VERSION
  !error "define VERSION, e.g. -DVERSION=0.1.0"
!endif
!ifndef EXE
  !error "define EXE, the path of lanchat.exe"
!endif
!ifndef OUT
  !define OUT "lanchat-${VERSION}-setup.exe"
!endif
; The four-number version Windows shows in the file's properties.
!ifndef VERSION4
  !define VERSION4 "${VERSION}.0"
!endif

!define APP "lanchat"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\lanchat"
; What the app writes for "Start at login" (src/desktop/autostart.rs).
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define RUN_VALUE "lanchat"
!define FW_UDP "lanchat (UDP)"
!define FW_TCP "lanchat (TCP)"

Name "${APP}"
OutFile "${OUT}"
SetCompressor /SOLID lzma
ManifestDPIAware true
ShowInstDetails show
ShowUninstDetails show
BrandingText "lanchat ${VERSION}"

VIProductVersion "${VERSION4}"
VIFileVersion "${VERSION4}"
VIAddVersionKey /LANG=1033 ProductName "lanchat"
VIAddVersionKey /LANG=1033 ProductVersion "${VERSION}"
VIAddVersionKey /LANG=1033 FileVersion "${VERSION}"
VIAddVersionKey /LANG=1033 CompanyName "lanchat"
VIAddVersionKey /LANG=1033 FileDescription "lanchat installer"
VIAddVersionKey /LANG=1033 LegalCopyright "MIT OR Apache-2.0"

; Per-user or all-users. "Highest": an administrator is asked by UAC and
; may choose either (per-user is preselected); anyone else runs without a
; prompt and installs for themselves. /AllUsers and /CurrentUser choose on
; the command line. The uninstall key's InstallLocation remembers the folder
; and the mode for the next installation.
!define MULTIUSER_EXECUTIONLEVEL Highest
!define MULTIUSER_MUI
!define MULTIUSER_INSTALLMODE_COMMANDLINE
!define MULTIUSER_INSTALLMODE_DEFAULT_CURRENTUSER
!define MULTIUSER_INSTALLMODE_INSTDIR "lanchat"
!define MULTIUSER_USE_PROGRAMFILES64
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_KEY "${UNINST_KEY}"
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_VALUENAME "InstallLocation"
!define MULTIUSER_INSTALLMODE_DEFAULT_REGISTRY_KEY "${UNINST_KEY}"
!define MULTIUSER_INSTALLMODE_DEFAULT_REGISTRY_VALUENAME "InstallLocation"
!define MULTIUSER_INIT_TEXT_ALLUSERSNOTPOSSIBLE "$(AllUsersNotPossible)"
!include MultiUser.nsh
!include MUI2.nsh
!include LogicLib.nsh
!include FileFunc.nsh
!include Sections.nsh
!include nsDialogs.nsh

!define MUI_ICON "lanchat.ico"
!define MUI_UNICON "lanchat.ico"
!define MUI_ABORTWARNING
!define MUI_WELCOMEFINISHPAGE_BITMAP "wizard.bmp"
; The description under the list, so the list is wide enough for the names.
!define MUI_COMPONENTSPAGE_SMALLDESC
; Stay on the details after installing: a firewall rule that failed is said there.
!define MUI_FINISHPAGE_NOAUTOCLOSE

!insertmacro MUI_PAGE_WELCOME
!insertmacro MULTIUSER_PAGE_INSTALLMODE
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
; Keep or delete the history: a page of its own with the whole sentence.
UninstPage custom un.DataPage un.DataPageLeave
!insertmacro MUI_UNPAGE_INSTFILES

; The installer and uninstaller speak the Windows display language when it
; is one of these, English otherwise.
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "Russian"
!include /CHARSET=UTF8 "strings.nsh"

Var UnInstDir
Var RemoveData
Var DataCheckbox

; A running lanchat.exe cannot be replaced or deleted: ask to quit it first.
; (Opening it for appending fails while it runs; nothing is written.)
!macro CHECK_NOT_RUNNING UN
Function ${UN}CheckNotRunning
  ${IfNot} ${FileExists} "$INSTDIR\lanchat.exe"
    Return
  ${EndIf}
  retry:
  ClearErrors
  FileOpen $0 "$INSTDIR\lanchat.exe" a
  ${If} ${Errors}
    MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "$(StillRunning)" /SD IDCANCEL IDRETRY retry
    DetailPrint "$(StillRunning)"
    Abort
  ${EndIf}
  FileClose $0
FunctionEnd
!macroend
!insertmacro CHECK_NOT_RUNNING ""
!insertmacro CHECK_NOT_RUNNING "un."

; ---------------------------------------------------------------- install

Section "$(SecMainName)" SecMain
  SectionIn RO
  Call CheckNotRunning
  SetOutPath "$INSTDIR"
  File "/oname=lanchat.exe" "${EXE}"
  ; Until lanchat.exe carries the icon as a resource, the shortcuts and
  ; the Installed apps entry take it from here.
  File "lanchat.ico"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; $SMPROGRAMS is the user's Start menu, or everyone's for all users.
  CreateShortcut "$SMPROGRAMS\lanchat.lnk" "$INSTDIR\lanchat.exe" "" "$INSTDIR\lanchat.ico" 0

  ; Installed apps (Add/Remove Programs): SHCTX is HKCU for the current
  ; user, HKLM for all users.
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayName" "lanchat"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINST_KEY}" "Publisher" "lanchat"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\lanchat.ico"
  WriteRegStr SHCTX "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  ; The mode on the uninstaller's command line, so it cleans the right place.
  WriteRegStr SHCTX "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe" /$MultiUser.InstallMode'
  WriteRegStr SHCTX "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S /$MultiUser.InstallMode'
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD SHCTX "${UNINST_KEY}" "EstimatedSize" $0

  ; Inbound rules for lanchat.exe on domain and private networks (not
  ; public): the group and unicast ports (UDP) and the file port (TCP).
  ; Only an all-users installation runs as administrator, which adding rules
  ; needs; after a per-user one the app's doctor (Help -> Network) tells the
  ; user what to open. Deleted first, so a reinstall does not double them.
  ; A failure is written in the details, not fatal.
  ${If} $MultiUser.InstallMode == "AllUsers"
    DetailPrint "$(FirewallAdding)"
    nsExec::ExecToLog '"$SYSDIR\netsh.exe" advfirewall firewall delete rule name="${FW_UDP}"'
    Pop $0
    nsExec::ExecToLog '"$SYSDIR\netsh.exe" advfirewall firewall delete rule name="${FW_TCP}"'
    Pop $0
    nsExec::ExecToLog '"$SYSDIR\netsh.exe" advfirewall firewall add rule name="${FW_UDP}" dir=in action=allow program="$INSTDIR\lanchat.exe" protocol=UDP localport=47077-47078 profile=domain,private'
    Pop $0
    ${If} $0 != 0
      DetailPrint "$(FirewallFailed)"
    ${EndIf}
    nsExec::ExecToLog '"$SYSDIR\netsh.exe" advfirewall firewall add rule name="${FW_TCP}" dir=in action=allow program="$INSTDIR\lanchat.exe" protocol=TCP localport=47079 profile=domain,private'
    Pop $0
    ${If} $0 != 0
      DetailPrint "$(FirewallFailed)"
    ${EndIf}
  ${Else}
    DetailPrint "$(FirewallPerUser)"
  ${EndIf}
SectionEnd

Section /o "$(SecDesktopName)" SecDesktop
  CreateShortcut "$DESKTOP\lanchat.lnk" "$INSTDIR\lanchat.exe" "" "$INSTDIR\lanchat.ico" 0
SectionEnd

; Exactly what lanchat writes itself for Settings -> Start at login
; (src/desktop/autostart.rs): HKCU\...\Run, value "lanchat", the quoted path.
; HKCU even for an all-users installation: starting at login is the
; installing user's own choice, and the app turns it off in the same place.
Section /o "$(SecAutostartName)" SecAutostart
  WriteRegStr HKCU "${RUN_KEY}" "${RUN_VALUE}" '"$INSTDIR\lanchat.exe"'
SectionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecMain} "$(SecMainDesc)"
  !insertmacro MUI_DESCRIPTION_TEXT ${SecDesktop} "$(SecDesktopDesc)"
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAutostart} "$(SecAutostartDesc)"
!insertmacro MUI_FUNCTION_DESCRIPTION_END

Function .onInit
  SetRegView 64
  !insertmacro MULTIUSER_INIT
  ; /Desktop and /Autostart tick those components (for silent installs).
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/Desktop" $R1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${SecDesktop}
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/Autostart" $R1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${SecAutostart}
  ${EndIf}
FunctionEnd

; ---------------------------------------------------------------- uninstall

Section "-un.Program"
  Call un.CheckNotRunning
  ; Only what the installer put there: a data folder a user made beside
  ; the program (a portable marker) stays, and so does the folder then.
  Delete "$INSTDIR\lanchat.exe"
  Delete "$INSTDIR\lanchat.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  Delete "$SMPROGRAMS\lanchat.lnk"
  Delete "$DESKTOP\lanchat.lnk"

  ; Start at login, only when it starts this copy (another installation or
  ; a portable copy may own it).
  ReadRegStr $0 HKCU "${RUN_KEY}" "${RUN_VALUE}"
  ${If} $0 == '"$INSTDIR\lanchat.exe"'
    DeleteRegValue HKCU "${RUN_KEY}" "${RUN_VALUE}"
  ${EndIf}

  ${If} $MultiUser.InstallMode == "AllUsers"
    DetailPrint "$(FirewallRemoving)"
    nsExec::ExecToLog '"$SYSDIR\netsh.exe" advfirewall firewall delete rule name="${FW_UDP}"'
    Pop $0
    nsExec::ExecToLog '"$SYSDIR\netsh.exe" advfirewall firewall delete rule name="${FW_TCP}"'
    Pop $0
  ${EndIf}

  DeleteRegKey SHCTX "${UNINST_KEY}"

  ; The running user's cache (the beep's sound file): not theirs to keep.
  SetShellVarContext current
  RMDir /r "$LOCALAPPDATA\lanchat\cache"
  RMDir "$LOCALAPPDATA\lanchat"
  ${If} $MultiUser.InstallMode == "AllUsers"
    SetShellVarContext all
  ${EndIf}
SectionEnd

; History, settings, keys: %APPDATA%\lanchat (data\ and config\) of the user
; running the uninstaller. Kept unless ticked or /RemoveData. An
; administrator's policy (%ProgramData%\lanchat) and received files
; (Downloads) are never touched.
Section "-un.Data"
  ${If} $RemoveData == 1
    SetShellVarContext current
    RMDir /r "$APPDATA\lanchat"
    RMDir /r "$LOCALAPPDATA\lanchat"
    ${If} $MultiUser.InstallMode == "AllUsers"
      SetShellVarContext all
    ${EndIf}
  ${EndIf}
SectionEnd

Function un.DataPage
  !insertmacro MUI_HEADER_TEXT "$(UnDataTitle)" "$(UnDataSubtitle)"
  nsDialogs::Create 1018
  Pop $0
  ; $APPDATA in the text: the user's own, also for an all-users uninstall.
  SetShellVarContext current
  ${NSD_CreateLabel} 0 0 100% 60u "$(UnDataText)"
  Pop $0
  ${If} $MultiUser.InstallMode == "AllUsers"
    SetShellVarContext all
  ${EndIf}
  ${NSD_CreateCheckbox} 0 68u 100% 12u "$(UnDataCheckbox)"
  Pop $DataCheckbox
  ${If} $RemoveData == 1
    ${NSD_Check} $DataCheckbox
  ${EndIf}
  nsDialogs::Show
FunctionEnd

Function un.DataPageLeave
  ${NSD_GetState} $DataCheckbox $0
  ${If} $0 == ${BST_CHECKED}
    StrCpy $RemoveData 1
  ${Else}
    StrCpy $RemoveData 0
  ${EndIf}
FunctionEnd

Function un.onInit
  SetRegView 64
  ; The uninstaller works on its own folder ($INSTDIR, or _?=); MultiUser
  ; would set $INSTDIR from the registry.
  StrCpy $UnInstDir $INSTDIR
  !insertmacro MULTIUSER_UNINIT
  ${GetParameters} $R0
  ; Without /AllUsers or /CurrentUser (run by hand), the mode is the one
  ; whose uninstall key names this folder.
  ClearErrors
  ${GetOptions} $R0 "/AllUsers" $R1
  ${If} ${Errors}
    ClearErrors
    ${GetOptions} $R0 "/CurrentUser" $R1
    ${If} ${Errors}
      ReadRegStr $R2 HKLM "${UNINST_KEY}" "InstallLocation"
      ${If} $R2 == $UnInstDir
        ${If} $MultiUser.Privileges == "Admin"
        ${OrIf} $MultiUser.Privileges == "Power"
          Call un.MultiUser.InstallMode.AllUsers
        ${Else}
          MessageBox MB_OK|MB_ICONSTOP "$(UnAllUsersNeedsAdmin)" /SD IDOK
          Quit
        ${EndIf}
      ${Else}
        Call un.MultiUser.InstallMode.CurrentUser
      ${EndIf}
    ${EndIf}
  ${EndIf}
  StrCpy $INSTDIR $UnInstDir
  StrCpy $RemoveData 0
  ClearErrors
  ${GetOptions} $R0 "/RemoveData" $R1
  ${IfNot} ${Errors}
    StrCpy $RemoveData 1
  ${EndIf}
FunctionEnd
